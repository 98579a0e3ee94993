"""The proclamation of a national session, in one act: the Proclamation row, per dossier the
CCP / CQP issued (counting the blocs held from before, from either CQP), the CQP withheld when a
prerequisite is missing, the parcours closed when its CQP is issued.

Split in two so that the caller (the portal) can render and seal the PDFs inside the same
transaction: ``proclaim`` writes the rows and returns what was issued; ``record_proclamation``
stores the sealed procès-verbal's name and hash and writes the audit entry. Nothing is committed
here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.decision.models import (
    Certificate,
    CertificateKind,
    NationalDossier,
    Prerequisite,
    Proclamation,
)
from vae.decision.national import (
    NationalError,
    ProclamationRefused,
    agenda,
    dossier_facts,
    fr_day,
    paris_date,
    proclamation_of,
)
from vae.decision.rules import (
    PREREQUISITE_LABELS,
    Issuance,
    held_at_proclamation,
    issuance,
    proclamation_day_problem,
    proclamation_problems,
)
from vae.jury.models import JurySession, SessionKind
from vae.parcours.models import Parcours, ParcoursStatus
from vae.referentiel.model import Certification


@dataclass
class DossierOutcome:
    dossier: NationalDossier
    issuance: Issuance
    certificates: list[Certificate] = field(default_factory=list)


@dataclass
class Proclaimed:
    proclamation: Proclamation
    outcomes: list[DossierOutcome]

    @property
    def certificates(self) -> list[Certificate]:
        return [c for o in self.outcomes for c in o.certificates]


def held_by_certificates(session: Session, holder_ids: Collection[int]) -> dict[int, set[str]]:
    """Per holder, the bloc keys of their non-revoked CCP (acquired for good, any parcours)."""
    held: dict[int, set[str]] = {h: set() for h in holder_ids}
    if not holder_ids:
        return held
    rows = session.execute(
        select(Certificate.holder_id, Certificate.bloc_key).where(
            Certificate.holder_id.in_(list(holder_ids)),
            Certificate.kind == CertificateKind.CCP.value,
            Certificate.revoked_at.is_(None),
        )
    )
    for holder_id, bloc_key in rows:
        if bloc_key:
            held[holder_id].add(bloc_key)
    return held


def _recorded_prerequisites(session: Session, parcours_ids: Collection[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {p: set() for p in parcours_ids}
    if parcours_ids:
        rows = session.execute(
            select(Prerequisite.parcours_id, Prerequisite.key).where(
                Prerequisite.parcours_id.in_(list(parcours_ids))
            )
        )
        for parcours_id, key in rows:
            found[parcours_id].add(key)
    return found


def proclaim(
    *,
    session: Session,
    actor: Actor,
    jury_session: JurySession,
    certifications: Callable[[Parcours], Certification],
    prerequisites: Callable[[str], Collection[str]],
    new_code: Callable[[], str],
    recours_days: int,
    now: datetime,
) -> Proclaimed:
    """Proclaim a national session: a Proclamation row, the certificates per dossier, the
    withheld reasons, the parcours closed when their CQP is issued. Flushed, not committed.

    Refused before the session's day, and while a dossier's avis is unsigned or its signature
    broken, its recours period still open (neither filed nor waived) or a bloc undecided."""
    if jury_session.kind != SessionKind.NATIONAL.value:
        raise NationalError("confirm", "Cette session n'est pas une session nationale.")
    done = proclamation_of(session, jury_session.id)
    if done is not None:
        raise NationalError(
            "confirm",
            f"Session déjà proclamée le {fr_day(paris_date(done.proclaimed_at))}.",
        )
    too_early = proclamation_day_problem(session_day=jury_session.day, now=now)
    if too_early:
        raise NationalError("confirm", too_early)
    dossiers = agenda(session, jury_session.id)
    problems = proclamation_problems(
        (dossier_facts(d, recours_days=recours_days) for d in dossiers), now=now
    )
    if problems:
        raise ProclamationRefused(problems)
    proclamation = Proclamation(
        session_id=jury_session.id, proclaimed_at=now, proclaimed_by_id=actor.user_id
    )
    session.add(proclamation)
    session.flush()
    held_certs = held_by_certificates(session, {d.parcours.candidate_id for d in dossiers})
    recorded = _recorded_prerequisites(session, {d.parcours_id for d in dossiers})
    issued_on = paris_date(now)
    outcomes = []
    for dossier in dossiers:
        parcours = dossier.parcours
        certification = certifications(parcours)
        held = held_at_proclamation(
            snapshot=dossier.evaluation.held,
            certified=held_certs[parcours.candidate_id],
            refused={d.bloc_key for d in dossier.decisions if not d.validated},
        )
        result = issuance(
            certification,
            decided_validated={d.bloc_key for d in dossier.decisions if d.validated},
            held_blocs=held,
            missing_prerequisites=[
                k for k in prerequisites(parcours.route) if k not in recorded[parcours.id]
            ],
        )
        outcome = DossierOutcome(dossier=dossier, issuance=result)
        for key in result.ccp_blocs:
            outcome.certificates.append(
                _certificate(dossier, certification, key, new_code(), issued_on)
            )
        if result.cqp:
            outcome.certificates.append(
                _certificate(dossier, certification, None, new_code(), issued_on)
            )
            parcours.status = ParcoursStatus.CLOSED.value
            parcours.end_date = issued_on
        dossier.cqp_withheld_reason = result.cqp_withheld_reason
        session.add_all(outcome.certificates)
        outcomes.append(outcome)
    session.flush()
    return Proclaimed(proclamation=proclamation, outcomes=outcomes)


def _certificate(
    dossier: NationalDossier,
    certification: Certification,
    bloc_key: str | None,
    code: str,
    issued_on: date,
) -> Certificate:
    parcours = dossier.parcours
    cert_bloc = certification.bloc(bloc_key) if bloc_key else None
    return Certificate(
        code=code,
        kind=(CertificateKind.CCP if bloc_key else CertificateKind.CQP).value,
        holder_id=parcours.candidate_id,
        parcours_id=parcours.id,
        dossier_id=dossier.id,
        session_id=dossier.session_id,
        certification_code=certification.code,
        certification_short=certification.short,
        certification_title=certification.title,
        bloc_key=bloc_key,
        bloc_code=cert_bloc.code if cert_bloc else None,
        bloc_title=cert_bloc.title if cert_bloc else None,
        route=parcours.route,
        issued_on=issued_on,
        holder_first_name=parcours.candidate.first_name,
        holder_last_name=parcours.candidate.last_name,
    )


def issue_withheld_cqp(
    *,
    session: Session,
    actor: Actor,
    dossier: NationalDossier,
    certification: Certification,
    required: Collection[str],
    new_code: Callable[[], str],
    now: datetime,
) -> Certificate:
    """Deliver a CQP the proclamation withheld for a missing prerequisite, once the référent
    has recorded it: every bloc was already acquired, only the prerequisites were lacking."""
    session.refresh(dossier, with_for_update=True)  # a double click issues one CQP
    if dossier.cqp_withheld_reason is None:
        raise NationalError("cqp", "Aucun CQP n'est retenu pour ce dossier.")
    parcours = dossier.parcours
    recorded = _recorded_prerequisites(session, [parcours.id])[parcours.id]
    missing = [key for key in required if key not in recorded]
    if missing:
        labels = " ; ".join(PREREQUISITE_LABELS.get(k, k) for k in missing)
        raise NationalError("cqp", f"Prérequis toujours manquant(s) : {labels}.")
    issued_on = paris_date(now)
    certificate = _certificate(dossier, certification, None, new_code(), issued_on)
    session.add(certificate)
    dossier.cqp_withheld_reason = None
    parcours.status = ParcoursStatus.CLOSED.value
    parcours.end_date = issued_on
    session.flush()
    record(
        session=session,
        actor=actor,
        action="certificate.issue_withheld_cqp",
        object_type="national_dossier",
        object_id=dossier.id,
        subject_id=parcours.candidate_id,
        details={"certificate": certificate.code, "prerequisites": sorted(recorded)},
        now=now,
    )
    return certificate


def record_proclamation(
    *,
    session: Session,
    actor: Actor,
    proclaimed: Proclaimed,
    pv_file: str,
    pv_sha256: str,
    now: datetime,
) -> None:
    """Attach the sealed procès-verbal and write the audit entry of the proclamation."""
    proclamation = proclaimed.proclamation
    proclamation.pv_file = pv_file
    proclamation.pv_sha256 = pv_sha256
    entry = record(
        session=session,
        actor=actor,
        action="session.proclaim",
        object_type="jury_session",
        object_id=proclamation.session_id,
        details={
            "pv_sha256": pv_sha256,
            "dossiers": [o.dossier.id for o in proclaimed.outcomes],
            "certificates": [c.code for c in proclaimed.certificates],
        },
        now=now,
    )
    proclamation.audit_seq = entry.seq
    session.flush()
