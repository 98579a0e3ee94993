"""A small world of organisations, people and parcours for access tests."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.accounts.passwords import hash_password
from portal.accounts.service import open_session
from portal.settings import Settings
from vae.audit.service import Actor
from vae.orm import utcnow
from vae.parcours.models import Parcours, Route
from vae.parcours.service import open_parcours
from vae.people.models import (
    Branche,
    Civility,
    Organisation,
    OrganisationKind,
    OrganisationType,
    Role,
    User,
)
from vae.people.service import create_organisation, create_user
from vae.referentiel.models import CertificationRecord

PASSWORD = "Vingt-trois chevaux bleus galopent"
SYSTEM = Actor.system("tests")


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow by design: hash once per run


@dataclass
class World:
    cpam: Organisation
    caf: Organisation
    ucanss: Organisation
    people: dict[str, User]
    own: Parcours  # CPAM candidate, followed by tuteur/manager, CPAM référent
    foreign: Parcours  # CAF candidate, nobody of the test roles follows it


def build_world(db: Session) -> World:
    cpam = create_organisation(
        session=db,
        actor=SYSTEM,
        name="CPAM Test",
        kind=OrganisationKind.ORGANISME,
        type=OrganisationType.CPAM,
        branche=Branche.MALADIE,
    )
    caf = create_organisation(
        session=db,
        actor=SYSTEM,
        name="CAF Test",
        kind=OrganisationKind.ORGANISME,
        type=OrganisationType.CAF,
        branche=Branche.FAMILLE,
    )
    ucanss = create_organisation(
        session=db,
        actor=SYSTEM,
        name="Ucanss Test",
        kind=OrganisationKind.CERTIFICATEUR,
        type=OrganisationType.UCANSS,
        branche=None,
    )

    def person(key: str, org: Organisation, *roles: Role) -> User:
        user = create_user(
            session=db,
            actor=SYSTEM,
            email=f"{key}@test.fr",
            civility=Civility.MME,
            first_name=key.capitalize(),
            last_name="Test",
            organisation=org,
            roles=set(roles),
        )
        user.password_hash = _password_hash()
        return user

    people = {
        "candidat": person("candidat", cpam, Role.CANDIDAT),
        "tuteur": person("tuteur", cpam, Role.TUTEUR),
        "manager": person("manager", cpam, Role.MANAGER),
        "referent": person("referent", cpam, Role.REFERENT),
        "jury_pro": person("jurypro", ucanss, Role.JURY_PRO),
        "jury_national": person("jurynational", ucanss, Role.JURY_NATIONAL),
        "admin": person("admin", ucanss, Role.ADMIN),
        "other_candidat": person("autrecandidat", caf, Role.CANDIDAT),
        "other_tuteur": person("autretuteur", caf, Role.TUTEUR),
        "other_manager": person("autremanager", caf, Role.MANAGER),
    }
    cos = db.scalars(select(CertificationRecord).where(CertificationRecord.short == "COS")).first()
    assert cos is not None
    own = open_parcours(
        session=db,
        actor=SYSTEM,
        candidate=people["candidat"],
        certification=cos,
        route=Route.VAE,
        employer=cpam,
        tutor=people["tuteur"],
        manager=people["manager"],
        start_date=date(2026, 9, 1),
    )
    foreign = open_parcours(
        session=db,
        actor=SYSTEM,
        candidate=people["other_candidat"],
        certification=cos,
        route=Route.FORMATION,
        employer=caf,
        tutor=people["other_tuteur"],
        manager=people["other_manager"],
        start_date=date(2026, 9, 1),
    )
    db.flush()
    return World(cpam, caf, ucanss, people, own, foreign)


def sign_in_as(client: TestClient, db: Session, settings: Settings, user: User) -> str:
    """Open a session directly (no password hashing per test) and set its cookie."""
    token, auth_session = open_session(
        session=db, user=user, ip="testclient", user_agent="pytest", now=utcnow(), settings=settings
    )
    db.flush()
    client.cookies.set("session", token)
    return auth_session.csrf_token
