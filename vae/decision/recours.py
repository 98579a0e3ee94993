"""The candidate's reasoned appeal (recours motivé) against the signed avis, read by the
national jury."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.decision import rules
from vae.decision.evaluation import GridInvalid, NotAllowed
from vae.decision.models import Evaluation, Recours
from vae.people.models import User

RECOURS_MIN, RECOURS_MAX = 50, 10000


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
    if evaluation.recours is not None:
        if evaluation.recours.text == text:
            return evaluation.recours  # a double submission
        raise GridInvalid({"text": "Un recours a déjà été déposé contre cet avis."})
    if not rules.recours_open(signed_at=evaluation.signed_at, now=now, days=days):
        raise GridInvalid({"text": "Le délai de recours est expiré."})
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


def recours_deadline(evaluation: Evaluation, days: int) -> datetime | None:
    if evaluation.signed_at is None:
        return None
    return rules.recours_deadline(evaluation.signed_at, days)
