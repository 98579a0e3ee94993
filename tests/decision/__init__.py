"""Shared builders for the decision tests: a jury session of two members with one convocation,
another organisme of the candidate's branche (for an expert who signs), and complete grids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from vae.audit.service import Actor
from vae.decision.evaluation import AvisInput, GridInput
from vae.decision.models import Certificate
from vae.jury.models import Convocation, JuryMember, JurySession
from vae.parcours.models import Parcours
from vae.people.models import Civility, Role, User
from vae.people.service import create_user
from vae.referentiel.model import Certification
from vae.referentiel.service import get_referentiel

NOW = datetime(2027, 2, 9, 15, 0, tzinfo=UTC)


@dataclass
class Jury:
    session: JurySession
    convocation: Convocation
    president: User
    expert: User


def jury_for(db: Session, parcours: Parcours, president: User, expert_org_id: int) -> Jury:
    """A jury professionnel session with ``president`` and a new expert, ``parcours`` convened."""
    from vae.people.models import Organisation

    organisation = db.get(Organisation, expert_org_id)
    assert organisation is not None
    expert = create_user(
        session=db,
        actor=Actor.system("tests"),
        email=f"expert{parcours.id}@test.fr",
        civility=Civility.M,
        first_name="Paul",
        last_name="Expert",
        organisation=organisation,
        roles={Role.JURY_PRO},
    )
    jury = JurySession(kind="professionnel", day=date(2027, 2, 9), place="Montreuil", capacity=8)
    db.add(jury)
    db.flush()
    db.add(JuryMember(session_id=jury.id, user_id=president.id, quality="president"))
    db.add(JuryMember(session_id=jury.id, user_id=expert.id, quality="expert"))
    convocation = Convocation(
        session_id=jury.id,
        parcours_id=parcours.id,
        at=datetime(2027, 2, 9, 9, tzinfo=UTC),
        place="Montreuil",
    )
    db.add(convocation)
    db.flush()
    db.refresh(jury)
    return Jury(jury, convocation, president, expert)


def branche_peer(db: Session, parcours: Parcours) -> int:
    """The id of another organisme of the candidate's branche (its experts sign the avis)."""
    from vae.people.models import Branche, OrganisationKind, OrganisationType
    from vae.people.service import create_organisation

    employer = parcours.employer
    assert employer.branche is not None
    peer = create_organisation(
        session=db,
        actor=Actor.system("tests"),
        name=f"{employer.name} voisine {parcours.id}",
        kind=OrganisationKind.ORGANISME,
        type=OrganisationType(employer.type),
        branche=Branche(employer.branche),
    )
    db.flush()
    return peer.id


def ccp(db: Session, parcours: Parcours, bloc_key: str, *, revoked: bool = False) -> Certificate:
    """A CCP issued by the platform to ``parcours``'s candidate (revoked when asked)."""
    certificate = Certificate(
        code=f"T{parcours.id}{bloc_key}{'R' if revoked else ''}",
        kind="ccp",
        holder_id=parcours.candidate_id,
        parcours_id=parcours.id,
        certification_code=parcours.certification.code,
        certification_short=parcours.certification.short,
        certification_title=parcours.certification.title,
        bloc_key=bloc_key,
        bloc_code=bloc_key,
        bloc_title=bloc_key,
        route=parcours.route,
        issued_on=date(2026, 6, 30),
        holder_first_name=parcours.candidate.first_name,
        holder_last_name=parcours.candidate.last_name,
        revoked_at=NOW if revoked else None,
        revoked_reason="Erreur de saisie." if revoked else None,
    )
    db.add(certificate)
    db.flush()
    return certificate


def certification(db: Session, short: str) -> Certification:
    referentiel = get_referentiel(db)
    assert referentiel is not None
    return referentiel.certification(short)


def marks(
    cert: Certification, value: bool = True, held: frozenset[str] = frozenset()
) -> dict[str, bool]:
    return {
        criterion.key: value
        for cert_bloc, competence in cert.competences()
        if cert_bloc.key not in held
        for criterion in competence.criteria
    }


def complete(cert: Certification, held: frozenset[str] = frozenset()) -> GridInput:
    """Every criterion validated, every avis favourable."""
    return GridInput(
        marks=marks(cert, True, held),
        comments={},
        avis={k: AvisInput(True) for k in cert.bloc_keys if k not in held},
    )
