"""Prerequisites of the CQP recorded by the référent on a parcours (Pass, Prem'ss…)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.decision.models import Prerequisite
from vae.decision.rules import PREREQUISITE_LABELS
from vae.parcours.models import Parcours


class PrerequisiteError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def recorded(session: Session, parcours_id: int) -> dict[str, Prerequisite]:
    rows = session.scalars(select(Prerequisite).where(Prerequisite.parcours_id == parcours_id))
    return {row.key: row for row in rows}


def missing(session: Session, parcours_id: int, required: Collection[str]) -> list[str]:
    """The required prerequisites not recorded on the parcours, in the required order."""
    have = recorded(session, parcours_id)
    return [key for key in required if key not in have]


def record_prerequisite(
    *,
    session: Session,
    actor: Actor,
    parcours: Parcours,
    key: str,
    completed_on: date | None,
    now: datetime,
) -> Prerequisite:
    if key not in PREREQUISITE_LABELS:
        raise PrerequisiteError("prerequisite", "Choisissez un prérequis de la liste.")
    if completed_on is None:
        raise PrerequisiteError("completed_on", "Indiquez la date de fin de la formation.")
    if completed_on > now.date():
        raise PrerequisiteError("completed_on", "La date ne peut pas être dans le futur.")
    if completed_on.year < 2000:
        raise PrerequisiteError("completed_on", "Indiquez une date à partir de l'an 2000.")
    existing = recorded(session, parcours.id).get(key)
    if existing is not None:
        raise PrerequisiteError(
            "prerequisite", f"« {PREREQUISITE_LABELS[key]} » est déjà enregistré."
        )
    row = Prerequisite(
        parcours_id=parcours.id,
        key=key,
        completed_on=completed_on,
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="parcours.prerequisite_record",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"prerequisite": key, "completed_on": completed_on.isoformat()},
    )
    return row


def remove_prerequisite(
    *, session: Session, actor: Actor, parcours: Parcours, key: str, now: datetime
) -> None:
    row = recorded(session, parcours.id).get(key)
    if row is None:
        return
    session.delete(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="parcours.prerequisite_remove",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"prerequisite": key},
    )
