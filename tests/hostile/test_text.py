"""Hostile text through the real forms: livret situation (plain save and autosave), livret
profile and career, carnet attestation, enrolment, account password, sign-in, user creation.

A refusal is a 4xx with a French message next to the field and changes nothing (same rows,
same lock versions). Text that is legitimately text (script tags, SQL fragments, bidi and
zero-width characters) is stored as typed and always rendered escaped, never executed. Invalid
UTF-8 never reaches a 500: it is refused or kept as replacement characters."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.models import AttestationVersion
from portal.accounts.models import AuthSession
from portal.settings import Settings
from tests.hostile.common import error_of, first_error, looks_french, note
from tests.hostile.forms import Case, Env
from tests.hostile.text_cases import CASES
from tests.livret.helpers import add
from tests.portal.world import build_world, sign_in_as
from vae.livret import service
from vae.livret.models import Livret, Situation
from vae.parcours.models import Parcours
from vae.people.models import Organisation, User
from vae.referentiel.model import Referentiel


def _snapshot(db: Session) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was."""
    db.expire_all()

    def count(model: Any) -> int:
        return db.scalar(select(func.count()).select_from(model)) or 0

    situations = [
        (s.lock_version, s.title, s.actions) for s in db.scalars(select(Situation).order_by("id"))
    ]
    livrets = [(lv.profile_lock, lv.current_job) for lv in db.scalars(select(Livret))]
    hashes = sorted(u.password_hash or "" for u in db.scalars(select(User)))
    return (
        situations,
        livrets,
        count(AttestationVersion),
        count(Parcours),
        count(User),
        count(AuthSession),
        count(Organisation),
        hashes,
    )


@pytest.fixture
def env(client: TestClient, db: Session, settings: Settings, referentiel: Referentiel) -> Env:
    world = build_world(db)
    situation = add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")
    return Env(client, db, world, situation, "")


ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "sqlite") != "sqlite"


def _param(case: Case) -> Any:
    marks = (
        [pytest.mark.xfail(ON_POSTGRES, reason=case.postgres_defect, strict=True)]
        if case.postgres_defect
        else []
    )
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_hostile_text(env: Env, settings: Settings, case: Case) -> None:
    client = env.client
    if case.who:
        env.token = sign_in_as(client, env.db, settings, env.world.people[case.who])
    else:
        client.get("/connexion")
        env.token = client.cookies.get("csrf") or ""
    before = _snapshot(env.db)
    headers = {"HX-Request": "true"} if case.htmx else {}
    if case.raw is not None:
        body, content_type = case.raw(env)
        response = client.post(
            case.url(env),
            content=body,
            headers={**headers, **content_type},
            follow_redirects=False,
        )
    else:
        assert case.form is not None
        response = client.post(
            case.url(env), data=case.form(env), headers=headers, follow_redirects=False
        )
    note(case.id, response.status_code)
    assert response.status_code != 500
    assert response.status_code == case.status, response.text[:3000]
    if 400 <= case.status < 500:
        if case.target:
            message = error_of(response.text, case.target)
            assert looks_french(message), response.text[:3000]
        elif case.status != 409:
            assert looks_french(first_error(response.text)), response.text[:3000]
        if not case.id.startswith("signin"):
            assert _snapshot(env.db) == before
    for check in case.checks:
        check(env, response)


def test_corpus_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
