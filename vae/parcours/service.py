"""Opening a parcours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.parcours.models import HeldBloc, Parcours, ParcoursStatus, Route
from vae.people.models import Organisation, OrganisationKind, Role, User
from vae.referentiel.models import CertificationRecord


class ParcoursError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class HeldBlocInput:
    bloc_key: str
    origin: str
    obtained_on: date | None = None


def open_parcours(
    *,
    session: Session,
    actor: Actor,
    candidate: User,
    certification: CertificationRecord,
    route: Route,
    employer: Organisation,
    tutor: User | None,
    manager: User | None,
    start_date: date,
    held_blocs: list[HeldBlocInput] | None = None,
) -> Parcours:
    if not candidate.has_role(Role.CANDIDAT):
        raise ParcoursError("candidate", "Cette personne n'a pas le rôle candidat.")
    already = session.scalar(
        select(Parcours.id).where(
            Parcours.candidate_id == candidate.id,
            Parcours.certification_id == certification.id,
            Parcours.status == ParcoursStatus.OPEN.value,
        )
    )
    if already is not None:
        raise ParcoursError(
            "candidate",
            f"{candidate.full_name} a déjà un parcours en cours vers ce CQP (parcours n° "
            f"{already}) : complétez-le plutôt que d'en ouvrir un second.",
        )
    if employer.kind != OrganisationKind.ORGANISME:
        raise ParcoursError("employer", "L'employeur doit être un organisme du Régime général.")
    if tutor is not None and not tutor.has_role(Role.TUTEUR):
        raise ParcoursError("tutor", "Cette personne n'a pas le rôle tuteur.")
    if manager is not None and not manager.has_role(Role.MANAGER):
        raise ParcoursError("manager", "Cette personne n'a pas le rôle manager.")
    for person, field in ((tutor, "tutor"), (manager, "manager")):
        if person is not None and person.id == candidate.id:
            raise ParcoursError(field, "Le candidat ne peut pas s'attester lui-même.")
    if tutor is not None and manager is not None and tutor.id == manager.id:
        raise ParcoursError("manager", "Le tuteur et le manager attestent chacun de leur côté.")
    bloc_keys = {cb.bloc.key for cb in certification.blocs}
    held = held_blocs or []
    seen: set[str] = set()
    for item in held:
        if item.bloc_key not in bloc_keys:
            raise ParcoursError(
                "held_blocs", f"Le bloc {item.bloc_key} ne fait pas partie de ce CQP."
            )
        if item.bloc_key in seen:
            raise ParcoursError("held_blocs", f"Le bloc {item.bloc_key} est indiqué deux fois.")
        if not item.origin.strip():
            raise ParcoursError("held_blocs", f"Indiquez l'origine du bloc {item.bloc_key}.")
        seen.add(item.bloc_key)
    if seen == bloc_keys:
        raise ParcoursError("held_blocs", "Tous les blocs sont déjà détenus : rien à évaluer.")
    parcours = Parcours(
        candidate=candidate,
        certification=certification,
        route=route.value,
        employer=employer,
        tutor=tutor,
        manager=manager,
        start_date=start_date,
        created_by_id=actor.user_id,
    )
    parcours.held_blocs = [
        HeldBloc(bloc_key=h.bloc_key, origin=h.origin.strip(), obtained_on=h.obtained_on)
        for h in held
    ]
    session.add(parcours)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="parcours.open",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=candidate.id,
        details={
            "certification": certification.code,
            "route": route.value,
            "held_blocs": sorted(seen),
        },
    )
    return parcours


def add_trainer(
    *, session: Session, actor: Actor, parcours: Parcours, trainer: User, now: datetime
) -> None:
    """Record someone who trained the candidate: they may not sit on the candidate's jury."""
    if trainer.id == parcours.candidate_id:
        raise ParcoursError("trainer", "Le candidat ne peut pas être son propre formateur.")
    if any(t.id == trainer.id for t in parcours.trainers):
        raise ParcoursError("trainer", f"{trainer.full_name} est déjà indiqué(e) comme formateur.")
    parcours.trainers.append(trainer)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="parcours.trainer_add",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"trainer": trainer.id},
    )


def remove_trainer(
    *, session: Session, actor: Actor, parcours: Parcours, trainer_id: int, now: datetime
) -> None:
    parcours.trainers = [t for t in parcours.trainers if t.id != trainer_id]
    session.flush()
    record(
        session=session,
        actor=actor,
        action="parcours.trainer_remove",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"trainer": trainer_id},
    )
