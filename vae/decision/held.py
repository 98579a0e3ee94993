"""The blocs a candidate holds for a parcours: those recorded when it opened and those of the
CCPs the platform has issued to them since (any parcours, not revoked), as long as the bloc
belongs to the parcours' certification (GRU and MDR are the same bloc in both CQPs).

An evaluation keeps a snapshot of this set when it opens (``Evaluation.held_blocs``), so a CCP
issued later does not change what its grid was about nor the hash its members signed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.decision.models import Certificate, CertificateKind
from vae.parcours.models import Parcours
from vae.referentiel.service import get_referentiel


def certified_bloc_keys(session: Session, holder_id: int) -> frozenset[str]:
    """The bloc keys of the holder's non-revoked CCPs, whatever the parcours."""
    rows = session.scalars(
        select(Certificate.bloc_key).where(
            Certificate.holder_id == holder_id,
            Certificate.kind == CertificateKind.CCP.value,
            Certificate.revoked_at.is_(None),
            Certificate.bloc_key.is_not(None),
        )
    )
    return frozenset(key for key in rows if key)


def current_held_blocs(session: Session, parcours: Parcours) -> frozenset[str]:
    """What ``parcours`` does not evaluate any more: the blocs held when it opened and the blocs
    of the certification the holder has since obtained a CCP for."""
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    bloc_keys = referentiel.certification(parcours.certification.code).bloc_keys
    certified = certified_bloc_keys(session, parcours.candidate_id)
    return parcours.held_bloc_keys | frozenset(key for key in certified if key in bloc_keys)
