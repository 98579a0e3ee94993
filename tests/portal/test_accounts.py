"""Sign-in, sessions, CSRF, throttling, headers, invitations and the audit chain."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.accounts.models import AccountToken
from portal.settings import Settings, load_settings
from tests.portal.world import PASSWORD, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import verify
from vae.orm import utcnow
from vae.people.models import Role


def _csrf(client: TestClient, path: str = "/connexion") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def _sign_in(client: TestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": _csrf(client)},
        follow_redirects=False,
    )


def test_sign_in_sets_a_hardened_cookie_and_lands_on_the_dashboard(
    client: TestClient, db: Session
) -> None:
    build_world(db)
    response = _sign_in(client, "Candidat@Test.fr ")
    assert response.status_code == 303 and response.headers["location"] == "/tableau-de-bord"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and cookie.startswith("session=")
    page = client.get("/tableau-de-bord")
    assert "Bonjour Candidat" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_wrong_password_is_a_french_message_next_to_the_field(
    client: TestClient, db: Session
) -> None:
    build_world(db)
    response = _sign_in(client, "candidat@test.fr", "pas le bon mot de passe")
    assert response.status_code == 400
    assert 'id="email-error"' in response.text
    assert 'aria-describedby="email-error"' in response.text
    assert "Adresse électronique ou mot de passe incorrect." in response.text


def test_new_session_id_at_sign_in_and_sign_out_invalidates(
    client: TestClient, db: Session
) -> None:
    build_world(db)
    client.cookies.set("session", "jeton-fixe-impose-par-un-attaquant", domain="testserver.local")
    _sign_in(client, "candidat@test.fr")
    token = client.cookies.get("session")
    assert token and token != "jeton-fixe-impose-par-un-attaquant"
    client.post("/deconnexion", data={"csrf_token": _csrf(client, "/compte")})
    client.cookies.clear()
    client.cookies.set("session", token, domain="testserver.local")  # replaying the old cookie
    response = client.get("/compte", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


def test_password_change_ends_the_other_sessions(client: TestClient, db: Session, app) -> None:  # type: ignore[no-untyped-def]
    build_world(db)
    _sign_in(client, "candidat@test.fr")
    with TestClient(app) as other:
        _sign_in(other, "candidat@test.fr")
        assert other.get("/compte", follow_redirects=False).status_code == 200
        new = "Sept marmottes dorment sous la neige"
        response = client.post(
            "/compte/mot-de-passe",
            data={
                "current": PASSWORD,
                "password": new,
                "confirm": new,
                "csrf_token": _csrf(client, "/compte"),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert other.get("/compte", follow_redirects=False).status_code == 303
    assert client.get("/compte", follow_redirects=False).status_code == 200


def test_weak_or_short_passwords_are_refused(client: TestClient, db: Session) -> None:
    build_world(db)
    _sign_in(client, "candidat@test.fr")
    for weak, message in (
        ("court", "au moins 12 caractères"),
        ("motdepasse123", "trop courant"),
        ("azertyuiopqsdf", "trop courant"),
        ("candidattest2026", "ni votre nom"),
    ):
        response = client.post(
            "/compte/mot-de-passe",
            data={
                "current": PASSWORD,
                "password": weak,
                "confirm": weak,
                "csrf_token": _csrf(client, "/compte"),
            },
        )
        assert response.status_code == 400 and message in response.text, weak


def test_disabling_an_account_ends_its_sessions(
    client: TestClient,
    db: Session,
    settings: Settings,
    app,  # type: ignore[no-untyped-def]
) -> None:
    world = build_world(db)
    with TestClient(app) as victim:
        sign_in_as(victim, db, settings, world.people["candidat"])
        assert victim.get("/compte", follow_redirects=False).status_code == 200
        token = sign_in_as(client, db, settings, world.people["admin"])
        response = client.post(
            f"/admin/utilisateurs/{world.people['candidat'].id}/activation",
            data={"active": "0", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert victim.get("/compte", follow_redirects=False).status_code == 303
    assert _sign_in(client, "candidat@test.fr").status_code == 400


def test_idle_and_absolute_timeouts(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["candidat"])
    assert client.get("/compte", follow_redirects=False).status_code == 200
    db.execute(
        text("UPDATE auth_sessions SET last_seen_at = :t"),
        {
            "t": (utcnow() - timedelta(minutes=31)).replace(tzinfo=None)
            if db.bind.dialect.name == "sqlite"
            else utcnow() - timedelta(minutes=31)
        },
    )
    assert client.get("/compte", follow_redirects=False).status_code == 303
    sign_in_as(client, db, settings, world.people["candidat"])
    past = utcnow() - timedelta(seconds=1)
    db.execute(
        text("UPDATE auth_sessions SET expires_at = :t"),
        {"t": past.replace(tzinfo=None) if db.bind.dialect.name == "sqlite" else past},
    )
    assert client.get("/compte", follow_redirects=False).status_code == 303


def test_csrf_is_required_on_every_form_and_htmx_post(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["admin"])
    url = f"/admin/utilisateurs/{world.people['candidat'].id}/activation"
    assert client.post(url, data={"active": "0"}).status_code == 403
    assert client.post(url, data={"active": "0", "csrf_token": "faux"}).status_code == 403
    assert (
        client.post(
            url, data={"active": "0"}, headers={"X-CSRF-Token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    # anonymous forms use a cookie-bound token
    assert client.post("/mot-de-passe-oublie", data={"email": "a@b.fr"}).status_code == 403


def test_cross_site_posts_are_refused_before_anything_runs(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["admin"])
    url = f"/admin/utilisateurs/{world.people['candidat'].id}/activation"
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post(url, data={"active": "0", "csrf_token": token}, headers=headers)
        assert response.status_code == 403 and "Requête refusée" in response.text
    assert world.people["candidat"].is_active


def test_no_state_change_on_get(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])
    for path in (
        "/deconnexion",
        "/compte/deconnexion-partout",
        f"/admin/utilisateurs/{world.people['candidat'].id}/activation",
    ):
        assert client.get(path).status_code == 405


def test_throttling_after_five_failures(client: TestClient, db: Session) -> None:
    build_world(db)
    for _ in range(5):
        assert _sign_in(client, "candidat@test.fr", "mauvais-mot-de-passe").status_code == 400
    response = _sign_in(client, "candidat@test.fr")  # right password, still refused
    assert response.status_code == 400
    assert "Trop de tentatives" in response.text
    actions = db.scalars(
        select(AuditEntry.outcome).where(AuditEntry.action.in_(["auth.signin", "auth.lock"]))
    ).all()
    assert actions.count("failure") == 5 and "locked" in actions


def test_security_headers(client: TestClient) -> None:
    response = client.get("/referentiel")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in response.text  # no inline script anywhere


def test_https_cookie_is_secure_and_host_prefixed(
    settings: Settings, engine, connection, db
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session as S

    from portal.app import create_app

    build_world(db)
    https = load_settings(
        {"DATABASE_URL": settings.database_url, "BASE_URL": "https://cqp.example"}
    )
    app = create_app(
        https,
        engine=engine,
        session_factory=lambda: S(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ),
    )
    with TestClient(app, base_url="https://cqp.example") as client:
        response = _sign_in(client, "candidat@test.fr")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie


def test_invitation_flow(
    client: TestClient, db: Session, settings: Settings, tmp_path: Path
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["referent"])
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data={
            "csrf_token": token,
            "civility": "M.",
            "first_name": "Paul",
            "last_name": "Nouveau",
            "email": "paul.nouveau@test.fr",
            "organisation": str(world.cpam.id),
            "roles": ["candidat"],
        },
    )
    assert response.status_code == 200, response.text
    link = re.search(r"http://[^<\s]+/invitation/[A-Za-z0-9_-]+", response.text)
    assert link
    path = link.group(0).split("testserver", 1)[-1].replace("http://127.0.0.1:8000", "")
    client.cookies.clear()
    assert client.get(path).status_code == 200
    new = "Douze pingouins lisent Victor Hugo"
    response = client.post(
        path,
        data={"password": new, "confirm": new, "csrf_token": _csrf(client, path)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get(path).status_code == 404  # one time only
    assert _sign_in(client, "paul.nouveau@test.fr", new).status_code == 303


def test_referent_cannot_grant_jury_or_admin_roles(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["referent"])
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data={
            "csrf_token": token,
            "civility": "M.",
            "first_name": "Eve",
            "last_name": "Pirate",
            "email": "eve@test.fr",
            "organisation": str(world.cpam.id),
            "roles": ["admin"],
        },
    )
    assert response.status_code == 400
    assert "Vous ne pouvez pas attribuer" in response.text
    response = client.post(
        f"/admin/utilisateurs/{world.people['candidat'].id}/roles",
        data={"csrf_token": token, "roles": ["candidat", "jury_pro"]},
    )
    assert response.status_code == 400


def test_expired_invitation_link(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    world.people["candidat"].password_hash = None  # invited, never activated
    token = sign_in_as(client, db, settings, world.people["admin"])
    response = client.post(
        f"/admin/utilisateurs/{world.people['candidat'].id}/invitation", data={"csrf_token": token}
    )
    path = "/invitation/" + re.search(r"/invitation/([A-Za-z0-9_-]+)", response.text).group(1)
    past = utcnow() - timedelta(hours=1)
    db.execute(update(AccountToken).values(expires_at=past))
    client.cookies.clear()
    assert client.get(path).status_code == 404


def test_reset_request_does_not_disclose_accounts(client: TestClient, db: Session) -> None:
    build_world(db)
    known = client.post(
        "/mot-de-passe-oublie",
        data={"email": "candidat@test.fr", "csrf_token": _csrf(client, "/mot-de-passe-oublie")},
    )
    unknown = client.post(
        "/mot-de-passe-oublie",
        data={"email": "inconnu@test.fr", "csrf_token": _csrf(client, "/mot-de-passe-oublie")},
    )
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert db.scalar(select(AccountToken).where(AccountToken.purpose == "reset")) is not None


def test_every_sign_in_and_denial_is_audited_and_the_chain_verifies(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    _sign_in(client, "candidat@test.fr")
    assert client.get(f"/parcours/{world.foreign.id}").status_code == 404
    assert client.get("/admin/organisations").status_code == 403
    outcomes = db.execute(select(AuditEntry.action, AuditEntry.outcome)).all()
    assert ("auth.signin", "ok") in outcomes
    assert ("access.denied", "404") in outcomes and ("access.denied", "403") in outcomes
    assert verify(db).ok


def test_audit_chain_detects_an_altered_row(db: Session) -> None:
    build_world(db)
    result = verify(db)
    assert result.ok and result.checked > 10
    victim = db.scalars(select(AuditEntry).order_by(AuditEntry.seq).offset(5)).first()
    assert victim is not None
    db.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(ip="10.6.6.6"))
    db.expire_all()
    broken = verify(db)
    assert not broken.ok and broken.broken_seq == victim.seq
    assert "content" in broken.reason


def test_audit_chain_detects_a_deleted_row(db: Session) -> None:
    build_world(db)
    seqs = db.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    db.execute(text("DELETE FROM audit_entries WHERE seq = :s"), {"s": seqs[3]})
    db.expire_all()
    broken = verify(db)
    assert not broken.ok and broken.broken_seq == seqs[3]


def test_no_one_gets_a_link_to_an_account_already_in_use(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Re-inviting an active account would let a référent sign in as a tutor: its owner gets a
    reset link by mail instead, and the page shows none."""
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["referent"])
    response = client.post(
        f"/admin/utilisateurs/{world.people['tuteur'].id}/invitation", data={"csrf_token": token}
    )
    assert response.status_code == 200
    assert "/invitation/" not in response.text and "/reinitialisation/" not in response.text
    assert "envoyé à tuteur@test.fr, et à personne d&#39;autre" in response.text
    purposes = db.scalars(select(AccountToken.purpose)).all()
    assert purposes == ["reset"]


def test_nobody_changes_their_own_roles(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["referent"])
    response = client.post(
        f"/admin/utilisateurs/{world.people['referent'].id}/roles",
        data={"csrf_token": token, "roles": ["referent", "tuteur"]},
    )
    assert response.status_code == 403
    assert world.people["referent"].roles == {Role.REFERENT}


def test_form_text_is_normalised(client: TestClient, db: Session, settings: Settings) -> None:
    """CRLF (plain forms) and LF (htmx) are the same text; NUL characters are dropped."""
    from portal.web import clean_text

    assert clean_text("a\r\nb\rc\x00d") == "a\nb\ncd"


def test_huge_ids_answer_404_not_500(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])
    for path in (
        "/parcours/99999999999999999999999",
        "/livret/situations/99999999999999999",
        "/parcours/1/carnet/versions/9999999999999999999/signer",
    ):
        assert client.get(path).status_code in (403, 404), path  # never a 500


def test_an_entry_written_with_a_local_time_still_verifies(db: Session) -> None:
    """Services may pass ``now`` in Paris time: SQLite gives it back in UTC, and the chain must
    hash the same instant either way."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from vae.audit.service import Actor, record

    paris = datetime(2026, 9, 21, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    entry = record(
        session=db, actor=Actor.system(), action="test.local_time", object_type="t", now=paris
    )
    db.flush()
    db.expire_all()
    assert db.get(AuditEntry, entry.id).at == paris  # type: ignore[union-attr]
    assert verify(db).ok


def test_a_busy_database_does_not_sign_anyone_out(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refreshing last_seen_at is best effort: on SQLite a read cannot take the write lock while
    a writer holds it; the request goes on with its session (the next one writes the time)."""
    from sqlalchemy.exc import OperationalError

    from portal.accounts.service import open_session, resolve_session

    world = build_world(db)
    then = utcnow()
    token, opened = open_session(
        session=db,
        user=world.people["candidat"],
        ip="x",
        user_agent="x",
        now=then,
        settings=settings,
    )
    db.flush()

    def locked() -> None:
        raise OperationalError("UPDATE auth_sessions", {}, Exception("database is locked"))

    monkeypatch.setattr(db, "commit", locked)
    found = resolve_session(db, token, now=then + timedelta(minutes=5), settings=settings)
    assert found is not None and found.id == opened.id


def test_a_request_resolves_its_session_user_and_roles_in_one_statement(
    db: Session, settings: Settings
) -> None:
    """Every signed-in request pays this: one statement, not one per relationship."""
    from sqlalchemy import event

    from portal.accounts.service import resolve_session
    from tests.portal.world import open_session

    world = build_world(db)
    token, _ = open_session(
        session=db,
        user=world.people["admin"],
        ip="t",
        user_agent="t",
        now=utcnow(),
        settings=settings,
    )
    db.commit()
    db.expunge_all()
    statements: list[str] = []

    def listen(_c, _cur, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", listen)
    try:
        auth_session = resolve_session(db, token, now=utcnow(), settings=settings)
        assert auth_session is not None
        assert Role.ADMIN in auth_session.user.roles
    finally:
        event.remove(connection, "before_cursor_execute", listen)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
