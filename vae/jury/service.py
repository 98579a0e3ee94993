"""Planning jury sessions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.jury.models import JurySession, SessionKind
from vae.jury.rules import calendar_problem


class JuryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def plan_session(
    *,
    session: Session,
    actor: Actor,
    kind: SessionKind,
    day: date,
    place: str,
    capacity: int,
    months: Collection[int],
    exam_days: int,
) -> JurySession:
    if kind == SessionKind.PROFESSIONNEL:
        problem = calendar_problem(day, months=months, exam_days=exam_days)
        if problem:
            raise JuryError("day", problem)
    if not place.strip():
        raise JuryError("place", "Indiquez le lieu de la session.")
    if not 1 <= capacity <= 200:
        raise JuryError("capacity", "La capacité doit être comprise entre 1 et 200 candidats.")
    jury_session = JurySession(kind=kind.value, day=day, place=place.strip(), capacity=capacity)
    session.add(jury_session)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="jury_session.plan",
        object_type="jury_session",
        object_id=jury_session.id,
        details={"kind": kind.value, "day": day.isoformat()},
    )
    return jury_session
