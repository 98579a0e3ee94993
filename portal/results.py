"""Certification results as the dashboards show them, for many parcours in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vae.decision.models import (
    Certificate,
    CertificateKind,
    Evaluation,
    NationalDossier,
    Proclamation,
)
from vae.decision.rules import held_at_proclamation
from vae.parcours.models import Parcours
from vae.referentiel.service import get_referentiel

LABELS = {
    "cqp": "CQP délivré",
    "partial": "Validation partielle",
    "withheld": "CQP non délivré (prérequis)",
    "pending": "En attente",
}


@dataclass
class Result:
    state: str  # cqp, partial, withheld, pending
    proclaimed_at: datetime | None = None
    acquired: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    recommendations: list[tuple[str, str]] = field(default_factory=list)  # (bloc, text)
    withheld_reason: str | None = None
    certificates: list[Certificate] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.state]


def _bloc_keys(session: Session, parcours: Parcours) -> tuple[str, ...]:
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel.certification(parcours.certification.code).bloc_keys


def results_for(session: Session, parcours: Sequence[Parcours]) -> dict[int, Result]:
    """Per parcours id: the result of its latest proclaimed dossier ("pending" without one)."""
    if not parcours:
        return {}
    ids = [p.id for p in parcours]
    rows = session.execute(
        select(NationalDossier, Proclamation.proclaimed_at)
        .join(Proclamation, Proclamation.session_id == NationalDossier.session_id)
        .where(NationalDossier.parcours_id.in_(ids))
        .options(
            selectinload(NationalDossier.decisions),
            selectinload(NationalDossier.evaluation).selectinload(Evaluation.avis),
        )
        .order_by(Proclamation.proclaimed_at)
    ).all()
    latest = {dossier.parcours_id: (dossier, at) for dossier, at in rows}
    certificates = session.scalars(
        select(Certificate)
        .where(
            Certificate.holder_id.in_({p.candidate_id for p in parcours}),
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.issued_on, Certificate.id)
    ).all()
    results: dict[int, Result] = {}
    bloc_keys: dict[int, tuple[str, ...]] = {}  # per certification: one référentiel look-up
    for p in parcours:
        own = [c for c in certificates if c.parcours_id == p.id]
        if p.id not in latest:
            results[p.id] = Result("pending", certificates=own)
            continue
        dossier, at = latest[p.id]
        ccp = {c.bloc_key for c in certificates if c.holder_id == p.candidate_id and c.bloc_key}
        if p.certification_id not in bloc_keys:
            bloc_keys[p.certification_id] = _bloc_keys(session, p)
        keys = bloc_keys[p.certification_id]
        not_validated = {d.bloc_key for d in dossier.decisions if not d.validated}
        # the proclamation's rule: the evaluation's held snapshot and the CCPs, a bloc decided
        # "non validé" only through a real CCP
        held = held_at_proclamation(
            snapshot=dossier.evaluation.held, certified=ccp, refused=not_validated
        )
        acquired = tuple(k for k in keys if k in held)
        cqp = any(c.kind == CertificateKind.CQP.value for c in own)
        state = "cqp" if cqp else ("withheld" if dossier.cqp_withheld_reason else "partial")
        results[p.id] = Result(
            state=state,
            proclaimed_at=at,
            acquired=acquired,
            missing=tuple(k for k in keys if k not in acquired),
            recommendations=[
                (a.bloc_key, a.recommendations)
                for a in dossier.evaluation.avis
                if a.bloc_key in not_validated and a.recommendations
            ],
            withheld_reason=dossier.cqp_withheld_reason,
            certificates=own,
        )
    return results
