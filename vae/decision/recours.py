"""The candidate's answer to the signed avis, read by the national jury: one reasoned appeal
(recours motivé) within the period, or the statement that they will not appeal (a waiver, which
ends the period). Neither once the national decision is proclaimed, nor while the signature is
broken (the avis then counts as not signed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.decision import rules
from vae.decision.evaluation import GridInvalid, NotAllowed
from vae.decision.models import Evaluation, NationalDossier, Proclamation, Recours
from vae.decision.signing import BROKEN_MESSAGE, signature_state
from vae.people.models import User

RECOURS_MIN, RECOURS_MAX = 50, 10000
PROCLAIMED = "La décision a été proclamée : le recours n'est plus possible."


def proclaimed_at(session: Session, evaluation: Evaluation) -> datetime | None:
    """When the national session that decided on this evaluation was proclaimed (None: not
    yet, or not on any agenda)."""
    return session.scalar(
        select(Proclamation.proclaimed_at)
        .join(NationalDossier, NationalDossier.session_id == Proclamation.session_id)
        .where(NationalDossier.evaluation_id == evaluation.id)
    )


def _answerable(
    session: Session, evaluation: Evaluation, *, field: str, now: datetime, days: int
) -> None:
    """Refuse (GridInvalid on ``field``) when the candidate may no longer answer the avis
    (the caller has checked it is theirs and locked the row)."""
    if signature_state(evaluation) == "broken":
        raise GridInvalid({field: BROKEN_MESSAGE})
    if proclaimed_at(session, evaluation) is not None:
        raise GridInvalid({field: PROCLAIMED})
    answer = evaluation.recours
    if answer is not None and answer.waived:
        raise GridInvalid({field: "Vous avez renoncé au recours contre cet avis."})
    if answer is not None:
        raise GridInvalid({field: "Un recours a déjà été déposé contre cet avis."})
    if not rules.recours_open(signed_at=evaluation.signed_at, now=now, days=days):
        raise GridInvalid({field: "Le délai de recours est expiré."})


def file_recours(
    *,
    session: Session,
    actor: Actor,
    user: User,
    evaluation: Evaluation,
    text: str,
    now: datetime,
    days: int,
) -> Recours:
    """The candidate's one reasoned appeal, within ``days`` of the final signature."""
    if evaluation.parcours.candidate_id != user.id or not evaluation.signed:
        raise NotAllowed
    session.refresh(evaluation, with_for_update=True)
    filed = evaluation.recours
    if filed is not None and not filed.waived and filed.text == text:
        return filed  # a double submission
    _answerable(session, evaluation, field="text", now=now, days=days)
    stripped = text.strip()
    if len(stripped) < RECOURS_MIN:
        raise GridInvalid({"text": f"Motivez votre recours en {RECOURS_MIN} caractères au moins."})
    if len(text) > RECOURS_MAX:
        raise GridInvalid({"text": f"Le recours ne doit pas dépasser {RECOURS_MAX} caractères."})
    recours = Recours(evaluation_id=evaluation.id, text=text, filed_at=now, filed_by_id=user.id)
    session.add(recours)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="recours.file",
        object_type="evaluation",
        object_id=evaluation.id,
        subject_id=user.id,
        now=now,
        details={"recours": recours.id, "length": len(text)},
    )
    return recours


def waive_recours(
    *,
    session: Session,
    actor: Actor,
    user: User,
    evaluation: Evaluation,
    confirmed: bool,
    now: datetime,
    days: int,
) -> Recours:
    """The candidate declares they will not appeal: the period ends, no recours afterwards."""
    if evaluation.parcours.candidate_id != user.id or not evaluation.signed:
        raise NotAllowed
    session.refresh(evaluation, with_for_update=True)
    if evaluation.recours is not None and evaluation.recours.waived:
        return evaluation.recours  # a double submission
    _answerable(session, evaluation, field="confirm", now=now, days=days)
    if not confirmed:
        raise GridInvalid(
            {"confirm": "Cochez la case pour confirmer que vous ne formez pas de recours."}
        )
    waiver = Recours(
        evaluation_id=evaluation.id, text="", waived=True, filed_at=now, filed_by_id=user.id
    )
    session.add(waiver)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="recours.waive",
        object_type="evaluation",
        object_id=evaluation.id,
        subject_id=user.id,
        now=now,
        details={"recours": waiver.id},
    )
    return waiver


def recours_deadline(evaluation: Evaluation, days: int) -> datetime | None:
    if evaluation.signed_at is None:
        return None
    return rules.recours_deadline(evaluation.signed_at, days)
