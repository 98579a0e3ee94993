"""My account: password change and the list of my signed-in sessions."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.models import AuthSession
from portal.accounts.service import AuthError, change_password, live_sessions, revoke_sessions
from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, redirect, session_cookie_name, view
from vae.audit.service import record


def _page(ctx: Ctx, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    assert ctx.user is not None
    return render(
        ctx.request,
        "account.html",
        {
            "sessions": live_sessions(ctx.db, ctx.user, now=ctx.now, settings=ctx.settings),
            "current_id": ctx.auth_session.id if ctx.auth_session else None,
            "errors": errors or {},
            "changed": ctx.request.query_params.get("modifie") == "1",
        },
        status_code=status_code,
    )


@view(Action.SIGNED_IN)
def account(ctx: Ctx) -> Response:
    return _page(ctx)


@view(Action.SIGNED_IN)
def password(ctx: Ctx) -> Response:
    assert ctx.auth_session is not None
    try:
        token, _ = change_password(
            session=ctx.db,
            auth_session=ctx.auth_session,
            current=ctx.field("current"),
            new=ctx.field("password"),
            confirm=ctx.field("confirm"),
            ip=ctx.ip,
            user_agent=ctx.request.headers.get("user-agent", ""),
            now=ctx.now,
            settings=ctx.settings,
        )
    except AuthError as error:
        return _page(ctx, {error.field: error.message}, status_code=400)
    ctx.db.commit()
    ctx.new_cookies[session_cookie_name(ctx.settings)] = token
    return redirect("/compte?modifie=1")


@view(Action.SIGNED_IN)
def signout_everywhere(ctx: Ctx) -> Response:
    assert ctx.user is not None
    revoke_sessions(session=ctx.db, user=ctx.user, now=ctx.now)
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="auth.signout_everywhere",
        object_type="account",
        object_id=ctx.user.id,
        subject_id=ctx.user.id,
        now=ctx.now,
    )
    ctx.db.commit()
    ctx.new_cookies[session_cookie_name(ctx.settings)] = None
    return redirect("/connexion?deconnecte=1")


@view(Action.SIGNED_IN)
def revoke_one(ctx: Ctx) -> Response:
    assert ctx.user is not None
    target = ctx.db.get(AuthSession, ctx.path_int("session_id"))
    if target is None or target.user_id != ctx.user.id:
        raise ctx.not_found()
    target.revoked_at = ctx.now
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="auth.session_revoke",
        object_type="session",
        object_id=target.id,
        subject_id=ctx.user.id,
        now=ctx.now,
    )
    ctx.db.commit()
    if ctx.auth_session is not None and target.id == ctx.auth_session.id:
        ctx.new_cookies[session_cookie_name(ctx.settings)] = None
        return redirect("/connexion?deconnecte=1")
    return redirect("/compte")


routes = [
    Route("/compte", account, methods=["GET"], name="account"),
    Route("/compte/mot-de-passe", password, methods=["POST"], name="account_password"),
    Route(
        "/compte/deconnexion-partout",
        signout_everywhere,
        methods=["POST"],
        name="account_signout_everywhere",
    ),
    Route(
        "/compte/sessions/{session_id:int}/revoquer",
        revoke_one,
        methods=["POST"],
        name="account_session_revoke",
    ),
]
