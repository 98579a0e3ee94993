"""The national deliberation: the agenda of a national session and the sovereign decision per
bloc, changeable until the session is proclaimed (``vae.decision.proclamation``). Nothing is
committed here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

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
    paris_day,
    reason_problem,
    recours_deadline,
    schedule_problem,
)
from vae.decision.signing import signature_state
from vae.jury.models import JurySession, SessionKind
from vae.parcours.models import Parcours
from vae.people.models import User


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


class DecisionConflict(ValueError):
    """The decisions changed since the form was displayed: nothing is overwritten."""

    def __init__(self, by: str) -> None:
        self.by = by
        super().__init__(f"decisions changed by {by}")


class ProclamationRefused(ValueError):
    """Everything that stops the proclamation, one French line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


def paris_date(moment: datetime) -> date:
    """The day in Paris (naive datetimes are UTC, the storage convention)."""
    return paris_day(moment)


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
                selectinload(NationalDossier.evaluation).selectinload(Evaluation.signatures),
                selectinload(NationalDossier.parcours).selectinload(Parcours.candidate),
                selectinload(NationalDossier.parcours).selectinload(Parcours.certification),
                selectinload(NationalDossier.parcours).selectinload(Parcours.employer),
            )
            .order_by(NationalDossier.id)
        )
    )


def schedulable(session: Session) -> list[Evaluation]:
    """Signed evaluations not yet on any national agenda, with what the form's list shows, in
    one statement (the grids and the candidates' roles are left unloaded: read on access)."""
    scheduled = select(NationalDossier.evaluation_id)
    return list(
        session.scalars(
            select(Evaluation)
            .where(Evaluation.signed_at.is_not(None), Evaluation.id.not_in(scheduled))
            .options(
                load_only(Evaluation.id, Evaluation.parcours_id, Evaluation.signed_at),
                joinedload(Evaluation.parcours, innerjoin=True)
                .load_only(Parcours.id, Parcours.candidate_id)
                .joinedload(Parcours.candidate, innerjoin=True)
                .load_only(User.id, User.first_name, User.last_name)
                .lazyload(User.role_rows),
            )
            .order_by(Evaluation.signed_at)
            .limit(500)
        )
    )


def evaluated_blocs(evaluation: Evaluation) -> tuple[str, ...]:
    """The blocs the jury professionnel gave an avis on (held blocs are not evaluated)."""
    return tuple(a.bloc_key for a in evaluation.avis)


def dossier_facts(dossier: NationalDossier, *, recours_days: int) -> DossierFacts:
    evaluation = dossier.evaluation
    signed_at = evaluation.signed_at
    return DossierFacts(
        candidate=dossier.parcours.candidate.full_name,
        avis_signed=evaluation.signed,
        evaluated_blocs=evaluated_blocs(evaluation),
        decided_blocs=frozenset(d.bloc_key for d in dossier.decisions),
        recours_deadline=recours_deadline(signed_at, recours_days) if signed_at else None,
        recours_closed=evaluation.recours is not None,
        signature_broken=signature_state(evaluation) == "broken",
    )


def decisions_version(dossier: NationalDossier) -> str:
    """The version token of a dossier's decisions, carried by the form: the SHA-256 of what
    is recorded (a form built on other decisions is stale)."""
    content = sorted((d.bloc_key, d.validated, d.reason) for d in dossier.decisions)
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def last_recorder(session: Session, dossier: NationalDossier) -> str:
    """Who recorded the dossier's latest decision (for the conflict message)."""
    latest = max(dossier.decisions, key=lambda d: (d.recorded_at, d.id), default=None)
    user = session.get(User, latest.recorded_by_id) if latest and latest.recorded_by_id else None
    return user.full_name if user is not None else "un autre membre du jury"


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
    if not evaluation.signed or evaluation.signed_at is None:
        raise NationalError(
            "evaluation", "L'avis du jury professionnel de ce dossier n'est pas encore signé."
        )
    if signature_state(evaluation) == "broken":
        raise NationalError(
            "evaluation",
            "Signature de l'avis rompue : le contenu a changé depuis la signature.",
        )
    too_early = schedule_problem(session_day=jury_session.day, signed_at=evaluation.signed_at)
    if too_early:
        raise NationalError("evaluation", too_early)
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
    version: str | None,
    now: datetime,
) -> list[Deliberation]:
    """Record (or change, until proclamation) the decision on every evaluated bloc.

    All or nothing: any bloc without an answer, or differing from the avis without a reason,
    refuses the whole form with a message per field. ``version`` is the token of the decisions
    the form was built on (``decisions_version``): once decisions exist, a form built on other
    ones is refused (``DecisionConflict``).
    """
    session.refresh(dossier, with_for_update=True)  # one writer at a time per dossier
    _refuse_if_proclaimed(session, dossier.session, "decisions")
    if not dossier.evaluation.signed:
        raise NationalError("decisions", "L'avis du jury professionnel n'est pas signé.")
    if dossier.decisions and version != decisions_version(dossier):
        raise DecisionConflict(last_recorder(session, dossier))
    errors: dict[str, str] = {}
    for avis in dossier.evaluation.avis:
        choice = choices.get(avis.bloc_key, Choice(None, ""))
        too_long = reason_problem(choice.reason)
        if too_long:
            errors[f"reason-{avis.bloc_key}"] = too_long
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
            errors.setdefault(f"reason-{avis.bloc_key}", problem)
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


# --- removal -------------------------------------------------------------------------------


def remove_dossier(
    *, session: Session, actor: Actor, dossier: NationalDossier, now: datetime
) -> None:
    """Take a dossier off the agenda before proclamation, with the decisions recorded on it
    (it may be put on another session's agenda afterwards)."""
    session.refresh(dossier, with_for_update=True)
    _refuse_if_proclaimed(session, dossier.session, "remove")
    details = {
        "session_id": dossier.session_id,
        "evaluation_id": dossier.evaluation_id,
        "decisions": {
            d.bloc_key: {"validated": d.validated, "reason": d.reason} for d in dossier.decisions
        },
    }
    dossier_id, candidate_id = dossier.id, dossier.parcours.candidate_id
    for decision in list(dossier.decisions):
        session.delete(decision)
    session.flush()
    session.delete(dossier)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="national.remove_dossier",
        object_type="national_dossier",
        object_id=dossier_id,
        subject_id=candidate_id,
        details=details,
        now=now,
    )
