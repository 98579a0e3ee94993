"""The pieces of the hostile text corpus: the test environment, a case, the forms of each
surface (filled with valid values, one field replaced by the payload) and the checks on what
was stored and shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.models import AttestationVersion
from tests.hostile.common import multipart
from tests.portal.world import PASSWORD, World
from vae.livret.models import Livret, Situation
from vae.people.models import User

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE users; --"
MEGA = "A" * (1024 * 1024)
RTL = "Accueil \u202eelcitra\u202c fin"
ZERO_WIDTH = "Ac\u200bcu\u200deil\ufeff"
NUL = "avant\x00apr\u00e8s"
BAD_UTF8 = b"\xff\xfe titre \xc3\x28 \xed\xa0\x80"

Check = Callable[["Env", Any], None]


@dataclass
class Env:
    client: TestClient
    db: Session
    world: World
    situation: Situation
    token: str


@dataclass(frozen=True)
class Case:
    id: str
    who: str  # "" for an anonymous visitor
    url: Callable[[Env], str]
    form: Callable[[Env], dict[str, Any]] | None = None
    raw: Callable[[Env], tuple[bytes, dict[str, str]]] | None = None
    htmx: bool = False
    status: int = 200
    target: str = ""  # the field the refusal message must sit next to
    checks: tuple[Check, ...] = ()
    postgres_defect: str = ""  # a known defect outside this slice: strict xfail on PostgreSQL


# --- urls and forms -------------------------------------------------------------------------


def situation_url(env: Env) -> str:
    return f"/livret/situations/{env.situation.id}"


def autosave_url(env: Env) -> str:
    return f"/livret/situations/{env.situation.id}/autosave"


def profile_url(env: Env) -> str:
    return f"/parcours/{env.world.own.id}/livret/profil"


def attest_url(env: Env) -> str:
    return f"/parcours/{env.world.own.id}/carnet/GRU-C1/attester"


def situation_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {"csrf_token": env.token, "lock_version": "1", **fields}


def profile_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    def build(env: Env) -> dict[str, Any]:
        livret = env.db.scalars(select(Livret)).one()
        return {
            "csrf_token": env.token,
            "lock_version": str(livret.profile_lock),
            "current_job": "Conseillère",
            "career_rows": "1",
            "career-0-job": "Technicienne",
            "career-0-employer": "CPAM Test",
            "career-0-from": "2019-01-01",
            **fields,
        }

    return build


ATTESTATION = {
    "situation_date": "2026-11-02",
    "situation_kind": "accueil_telephonique",
    "description": "Appel d'une assurée",
    "observed": ["GRU-C1-1", "GRU-C1-2", "GRU-C1-3", "GRU-C1-4"],
    "verdict": "maitrisee",
    "comment": "",
    "base_number": "0",
    "lock_version": "0",
}


def attest_form(**fields: Any) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {**ATTESTATION, "csrf_token": env.token, **fields}


def enrol_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    def build(env: Env) -> dict[str, Any]:
        people = env.world.people
        return {
            "csrf_token": env.token,
            "candidate": str(people["candidat"].id),
            "certification": "RNCP35729",
            "route": "formation",
            "tutor": str(people["tuteur"].id),
            "manager": str(people["manager"].id),
            "start_date": "2026-10-05",
            **fields,
        }

    return build


def password_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    new = "Un autre mot de passe très long"
    return lambda env: {
        "csrf_token": env.token,
        "current": PASSWORD,
        "password": new,
        "confirm": new,
        **fields,
    }


def signin_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    return lambda env: (
        {"csrf_token": env.token, "email": "candidat@test.fr", "password": "x"} | (fields)
    )


def user_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {
        "csrf_token": env.token,
        "email": "nouvelle@test.fr",
        "civility": "Mme",
        "first_name": "Nora",
        "last_name": "Martin",
        "job_title": "Technicienne",
        "organisation": str(env.world.cpam.id),
        "roles": ["tuteur"],
        **fields,
    }


def organisation_form(**fields: str) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {
        "csrf_token": env.token,
        "name": "CPAM Hostile",
        "kind": "organisme",
        "type": "CPAM",
        "branche": "Maladie",
        "city": "Lyon",
        **fields,
    }


def raw_urlencoded(prefix: Callable[[Env], bytes]) -> Callable[[Env], tuple[bytes, dict[str, str]]]:
    return lambda env: (
        prefix(env),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


def raw_multipart(
    fields: Callable[[Env], dict[str, Any]], name: str
) -> Callable[[Env], tuple[bytes, dict[str, str]]]:
    """The form, with field ``name`` replaced by invalid UTF-8 bytes."""

    def build(env: Env) -> tuple[bytes, dict[str, str]]:
        values = {k: v for k, v in fields(env).items() if isinstance(v, str)}
        return multipart({**values, name: BAD_UTF8})

    return build


# --- checks on what was stored and shown ------------------------------------------------------


def situation_has(name: str, expected: str) -> Check:
    def check(env: Env, response: Any) -> None:
        env.db.expire_all()
        assert getattr(env.db.get(Situation, env.situation.id), name) == expected
        page = env.client.get(situation_url(env)).text
        escaped = expected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped.replace('"', "&#34;").replace("'", "&#39;") in page
        assert "<script>alert" not in page and "<img src=x" not in page

    return check


def users_table_intact(env: Env, response: Any) -> None:
    env.db.expire_all()
    assert (env.db.scalar(select(func.count()).select_from(User)) or 0) >= 10


def page_escapes(url: Callable[[Env], str]) -> Check:
    def check(env: Env, response: Any) -> None:
        page = env.client.get(url(env)).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "&lt;img src=x" in page

    return check


def response_escapes(env: Env, response: Any) -> None:
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text


def attestation_description(expected: str) -> Check:
    def check(env: Env, response: Any) -> None:
        env.db.expire_all()
        version = env.db.scalars(select(AttestationVersion)).one()
        assert version.description == expected

    return check
