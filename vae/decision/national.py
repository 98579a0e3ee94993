"""The national deliberation: the agenda of a national session and the sovereign decision per
bloc, changeable until the session is proclaimed (``vae.decision.proclamation``). Nothing is
committed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vae.audit.service import Actor, record
from vae.decision.models import (
    Deliberation,
    Evaluation,
    NationalDossier,
    Proclamation,
)
from vae.decision.rules import (
    DossierFacts,
    decision_problem,
)
from vae.jury.models import JurySession, SessionKind
from vae.parcours.models import Parcours

PARIS = ZoneInfo("Europe/Paris")


class NationalError(ValueError):
    """A refusal tied to one form field, with its French message."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class DecisionErrors(ValueError):
    """Decisions refused: French message per field (``validated-GRU``, ``reason-GRU``…)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class ProclamationRefused(ValueError):
    """Everything that stops the proclamation, one French line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


def paris_date(moment: datetime) -> date:
    """The day in Paris (naive datetimes are UTC, the storage convention)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def fr_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- reading -------------------------------------------------------------------------------


def proclamation_of(session: Session, session_id: int) -> Proclamation | None:
    return session.scalar(select(Proclamation).where(Proclamation.session_id == session_id))


def agenda(session: Session, session_id: int) -> list[NationalDossier]:
    """The dossiers on a session's agenda with what the pages show already loaded."""
    return list(
        session.scalars(
            select(NationalDossier)
            .where(NationalDossier.session_id == session_id)
            .options(
                selectinload(NationalDossier.decisions),
                selectinload(NationalDossier.evaluation).selectinload(Evaluation.avis),
                selectinload(NationalDossier.evaluation).selectinload(Evaluation.recours),
                selectinload(NationalDossier.parcours).selectinload(Parcours.candidate),
                selectinload(NationalDossier.parcours).selectinload(Parcours.certification),
                selectinload(NationalDossier.parcours).selectinload(Parcours.employer),
            )
            .order_by(NationalDossier.id)
        )
    )


def schedulable(session: Session) -> list[Evaluation]:
    """Signed evaluations not yet on any national agenda."""
    scheduled = select(NationalDossier.evaluation_id)
    return list(
        session.scalars(
            select(Evaluation)
            .where(Evaluation.signed_at.is_not(None), Evaluation.id.not_in(scheduled))
            .options(selectinload(Evaluation.parcours).selectinload(Parcours.candidate))
            .order_by(Evaluation.signed_at)
            .limit(500)
        )
    )


def evaluated_blocs(evaluation: Evaluation) -> tuple[str, ...]:
    """The blocs the jury professionnel gave an avis on (held blocs are not evaluated)."""
    return tuple(a.bloc_key for a in evaluation.avis)


def dossier_facts(dossier: NationalDossier) -> DossierFacts:
    return DossierFacts(
        candidate=dossier.parcours.candidate.full_name,
        avis_signed=dossier.evaluation.signed,
        evaluated_blocs=evaluated_blocs(dossier.evaluation),
        decided_blocs=frozenset(d.bloc_key for d in dossier.decisions),
    )


def _refuse_if_proclaimed(session: Session, jury_session: JurySession, field: str) -> None:
    done = proclamation_of(session, jury_session.id)
    if done is not None:
        raise NationalError(
            field,
            f"La session a déjà été proclamée le {fr_day(paris_date(done.proclaimed_at))} : "
            "elle ne peut plus être modifiée.",
        )


# --- the agenda ----------------------------------------------------------------------------


def add_dossier(
    *,
    session: Session,
    actor: Actor,
    jury_session: JurySession,
    evaluation: Evaluation | None,
    now: datetime,
) -> NationalDossier:
    """Put a signed avis on the agenda of a national session."""
    if jury_session.kind != SessionKind.NATIONAL.value:
        raise NationalError("evaluation", "Cette session n'est pas une session nationale.")
    _refuse_if_proclaimed(session, jury_session, "evaluation")
    if evaluation is None:
        raise NationalError("evaluation", "Choisissez un dossier dont l'avis est signé.")
    if not evaluation.signed:
        raise NationalError(
            "evaluation", "L'avis du jury professionnel de ce dossier n'est pas encore signé."
        )
    existing = session.scalar(
        select(NationalDossier).where(NationalDossier.evaluation_id == evaluation.id)
    )
    if existing is not None:
        raise NationalError(
            "evaluation", "Ce dossier est déjà inscrit à l'ordre du jour d'une session nationale."
        )
    dossier = NationalDossier(
        session_id=jury_session.id,
        evaluation_id=evaluation.id,
        parcours_id=evaluation.parcours_id,
        added_at=now,
        added_by_id=actor.user_id,
    )
    session.add(dossier)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="national.add_dossier",
        object_type="national_dossier",
        object_id=dossier.id,
        subject_id=evaluation.parcours.candidate_id,
        details={"session_id": jury_session.id, "evaluation_id": evaluation.id},
        now=now,
    )
    return dossier


# --- the decisions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """What the form sent for one bloc: validated (None: not answered) and the reason."""

    validated: bool | None
    reason: str


def record_decisions(
    *,
    session: Session,
    actor: Actor,
    dossier: NationalDossier,
    choices: Mapping[str, Choice],
    now: datetime,
) -> list[Deliberation]:
    """Record (or change, until proclamation) the decision on every evaluated bloc.

    All or nothing: any bloc without an answer, or differing from the avis without a reason,
    refuses the whole form with a message per field.
    """
    _refuse_if_proclaimed(session, dossier.session, "decisions")
    if not dossier.evaluation.signed:
        raise NationalError("decisions", "L'avis du jury professionnel n'est pas signé.")
    errors: dict[str, str] = {}
    for avis in dossier.evaluation.avis:
        choice = choices.get(avis.bloc_key, Choice(None, ""))
        if choice.validated is None:
            errors[f"validated-{avis.bloc_key}"] = (
                f"Indiquez si le bloc {avis.bloc_key} est validé ou non."
            )
            continue
        problem = decision_problem(
            avis_favourable=bool(avis.favourable),
            validated=choice.validated,
            reason=choice.reason,
        )
        if problem:
            errors[f"reason-{avis.bloc_key}"] = problem
    if errors:
        raise DecisionErrors(errors)
    rows: list[Deliberation] = []
    for avis in dossier.evaluation.avis:
        choice = choices[avis.bloc_key]
        assert choice.validated is not None
        row = dossier.decision_for(avis.bloc_key)
        if row is None:
            row = Deliberation(dossier_id=dossier.id, bloc_key=avis.bloc_key)
            dossier.decisions.append(row)
        row.validated = choice.validated
        row.reason = choice.reason.strip()
        row.recorded_at = now
        row.recorded_by_id = actor.user_id
        rows.append(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="deliberation.record",
        object_type="national_dossier",
        object_id=dossier.id,
        subject_id=dossier.parcours.candidate_id,
        details={r.bloc_key: {"validated": r.validated, "reason": r.reason} for r in rows},
        now=now,
    )
    return rows
