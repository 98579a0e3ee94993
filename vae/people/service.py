"""Use cases on organisations and people (no password handling here: see portal.accounts)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.people.models import (
    Branche,
    Civility,
    Organisation,
    OrganisationKind,
    OrganisationType,
    Role,
    User,
    UserRole,
)


class PeopleError(ValueError):
    """Invalid input, with the field it concerns and a French message."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_organisation(
    *,
    session: Session,
    actor: Actor,
    name: str,
    kind: OrganisationKind,
    type: OrganisationType,
    branche: Branche | None,
    city: str = "",
) -> Organisation:
    name = name.strip()
    if not name:
        raise PeopleError("name", "Indiquez le nom de l'organisation.")
    if len(name) > 200:
        raise PeopleError("name", "Le nom ne doit pas dépasser 200 caractères.")
    if kind == OrganisationKind.ORGANISME and branche is None:
        raise PeopleError("branche", "Un organisme relève d'une branche de législation.")
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise PeopleError("name", "Une organisation porte déjà ce nom.")
    organisation = Organisation(
        name=name,
        kind=kind.value,
        type=type.value,
        branche=branche.value if branche else None,
        city=city.strip(),
    )
    session.add(organisation)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="organisation.create",
        object_type="organisation",
        object_id=organisation.id,
        details={"name": name, "type": type.value},
    )
    return organisation


def create_user(
    *,
    session: Session,
    actor: Actor,
    email: str,
    civility: Civility,
    first_name: str,
    last_name: str,
    organisation: Organisation,
    roles: set[Role] | frozenset[Role],
    job_title: str = "",
    manager: User | None = None,
    jury_training_date: date | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or " " in email:
        raise PeopleError("email", "Saisissez une adresse électronique valide.")
    if not first_name.strip():
        raise PeopleError("first_name", "Indiquez le prénom.")
    if not last_name.strip():
        raise PeopleError("last_name", "Indiquez le nom.")
    if not roles:
        raise PeopleError("roles", "Choisissez au moins un rôle.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise PeopleError("email", "Un compte existe déjà avec cette adresse.")
    user = User(
        email=email,
        civility=civility.value,
        first_name=first_name.strip()[:100],
        last_name=last_name.strip()[:100],
        job_title=job_title.strip()[:200],
        organisation=organisation,
        manager=manager,
        jury_training_date=jury_training_date,
        is_active=True,
    )
    user.role_rows = [UserRole(role=role.value) for role in sorted(roles)]
    session.add(user)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        subject_id=user.id,
        details={"roles": sorted(r.value for r in roles), "organisation_id": organisation.id},
    )
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def find_organisation(session: Session, name: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.name == name))


def management_line(user: User, *, limit: int = 20) -> list[User]:
    """The user's managers, nearest first (N+1, N+2…)."""
    line: list[User] = []
    current = user.manager
    while current is not None and len(line) < limit and current not in line:
        line.append(current)
        current = current.manager
    return line
