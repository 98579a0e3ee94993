"""Every route × every role × own / foreign object: allowed, 404 or 403.

The expectations are written out here, independently of ``portal.permissions``: a route added
to the router without an entry below makes ``test_every_route_has_an_expectation`` fail.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from portal.accounts.service import open_session
from portal.app import routes
from portal.permissions import Action
from portal.settings import Settings
from tests.portal.world import World, build_world, sign_in_as
from vae.orm import utcnow

ROLES = [
    "anonymous",
    "candidat",
    "tuteur",
    "manager",
    "referent",
    "jury_pro",
    "jury_national",
    "admin",
]
SIGNED = ROLES[1:]


def _all(status: int | tuple[int, int]) -> dict[str, tuple[int, int]]:
    pair = status if isinstance(status, tuple) else (status, status)
    return {role: pair for role in ROLES}


def _signed(status: int | tuple[int, int], anonymous: int = 303) -> dict[str, tuple[int, int]]:
    table = _all(status)
    table["anonymous"] = (anonymous, anonymous)
    return table


def _only(allowed: dict[str, tuple[int, int]], others: int = 403) -> dict[str, tuple[int, int]]:
    table = _signed(others)
    table.update(allowed)
    return table


PARCOURS_VIEW = _signed(404) | {
    "candidat": (200, 404),
    "tuteur": (200, 404),
    "manager": (200, 404),
    "referent": (200, 404),
    "admin": (200, 200),
}
USER_ADMIN_GET = _only({"referent": (200, 404), "admin": (200, 200)})
USER_ADMIN_POST = _only({"referent": (303, 404), "admin": (303, 303)})

# (route name, method) → role → (own object, foreign object) expected status
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("home", "GET"): _all(200) | {r: (303, 303) for r in SIGNED},
    ("healthz", "GET"): _all(200),
    ("referentiel", "GET"): _all(200),
    ("referentiel_certification", "GET"): _all((200, 404)),
    ("referentiel_bloc", "GET"): _all((200, 404)),
    ("signin", "GET"): _all(200) | {r: (303, 303) for r in SIGNED},
    ("signin", "POST"): _all(400),  # wrong password
    ("signout", "POST"): _signed(303),
    ("invitation", "GET"): _all(404),  # unknown link
    ("invitation", "POST"): _all(404),
    ("reset_request", "GET"): _all(200),
    ("reset_request", "POST"): _all(200),
    ("reset", "GET"): _all(404),
    ("reset", "POST"): _all(404),
    ("account", "GET"): _signed(200),
    ("account_password", "POST"): _signed(400),  # wrong current password
    ("account_signout_everywhere", "POST"): _signed(303),
    ("account_session_revoke", "POST"): _signed((303, 404)),
    ("dashboard", "GET"): _signed(200),
    ("parcours", "GET"): PARCOURS_VIEW,
    ("admin_organisations", "GET"): _only({"admin": (200, 200)}),
    ("admin_organisations", "POST"): _only({"admin": (400, 400)}),  # empty form
    ("admin_users", "GET"): _only({"referent": (200, 200), "admin": (200, 200)}),
    ("admin_user_new", "GET"): _only({"referent": (200, 200), "admin": (200, 200)}),
    ("admin_user_new", "POST"): _only({"referent": (400, 400), "admin": (400, 400)}),
    ("admin_user", "GET"): USER_ADMIN_GET,
    ("admin_user_roles", "POST"): _only({"referent": (303, 404), "admin": (303, 303)}),
    ("admin_user_active", "POST"): USER_ADMIN_POST,
    ("admin_user_invite", "POST"): _only({"referent": (200, 404), "admin": (200, 200)}),
}


def _router_routes() -> list[tuple[str, str, Route]]:
    found = []
    for route in routes():
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((route.name, method, route))
    return found


def test_every_route_has_an_expectation_and_a_policy() -> None:
    found = {(name, method) for name, method, _ in _router_routes()}
    assert found == set(EXPECTED), (
        f"routes without expectation: {sorted(found - set(EXPECTED))}; "
        f"stale expectations: {sorted(set(EXPECTED) - found)}"
    )
    for name, _, route in _router_routes():
        assert isinstance(getattr(route.endpoint, "__policy__", None), Action), name


def _url(name: str, world: World, role: str, own: bool, db: Session, settings: Settings) -> str:
    people = world.people
    if name == "referentiel_certification":
        return "/referentiel/RNCP35543" if own else "/referentiel/RNCP99999"
    if name == "referentiel_bloc":
        return "/referentiel/RNCP35543/POS" if own else "/referentiel/RNCP35729/POS"
    if name == "parcours":
        return f"/parcours/{(world.own if own else world.foreign).id}"
    if name in ("admin_user", "admin_user_roles", "admin_user_active", "admin_user_invite"):
        target = people["candidat"] if own else people["other_candidat"]
        suffix = {
            "admin_user": "",
            "admin_user_roles": "/roles",
            "admin_user_active": "/activation",
            "admin_user_invite": "/invitation",
        }[name]
        return f"/admin/utilisateurs/{target.id}{suffix}"
    if name == "account_session_revoke":
        owner = people[role] if own and role != "anonymous" else people["other_candidat"]
        _, other = open_session(
            session=db, user=owner, ip="x", user_agent="x", now=utcnow(), settings=settings
        )
        db.flush()
        return f"/compte/sessions/{other.id}/revoquer"
    paths = {route.name: route.path for _, _, route in _router_routes()}
    return paths[name].replace("{token}", "lien-inconnu")


FORMS: dict[str, dict[str, str | list[str]]] = {
    "signin": {"email": "candidat@test.fr", "password": "mauvais mot de passe"},
    "account_password": {"current": "faux", "password": "x", "confirm": "x"},
    "reset_request": {"email": "personne@test.fr"},
    "admin_user_roles": {"roles": ["candidat"]},
    "admin_user_active": {"active": "0"},
}

CASES = [
    (name, method, role, own)
    for (name, method) in sorted(EXPECTED)
    for role in ROLES
    for own in (True, False)
]


@pytest.mark.parametrize(("name", "method", "role", "own"), CASES)
def test_policy_matrix(
    client: TestClient,
    db: Session,
    settings: Settings,
    name: str,
    method: str,
    role: str,
    own: bool,
) -> None:
    world = build_world(db)
    token = ""
    if role != "anonymous":
        token = sign_in_as(client, db, settings, world.people[role])
    else:
        client.get("/connexion")  # anonymous CSRF cookie
        token = client.cookies.get("csrf") or ""
    url = _url(name, world, role, own, db, settings)
    if method == "GET":
        response = client.get(url, follow_redirects=False)
    else:
        data = {"csrf_token": token, **FORMS.get(name, {})}
        response = client.post(url, data=data, follow_redirects=False)
    expected = EXPECTED[(name, method)][role][0 if own else 1]
    assert response.status_code == expected, f"{method} {url} as {role}: {response.status_code}"
    if expected == 404:
        assert "Page introuvable" in response.text or "plus valable" in response.text
