"""Sign-in, sign-out, invitation and password reset pages."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.models import TokenPurpose
from portal.accounts.service import AuthError, create_link, find_link, sign_in, sign_out, use_link
from portal.mail import send_reset_mail
from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, redirect, session_cookie_name, view
from vae.people.service import find_user

MAX_EMAIL = 254  # no account has a longer address (RFC 5321; the column's size)
WRONG_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."


def _safe_next(target: str) -> str:
    """Only local paths: never redirect to another site after sign-in."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/tableau-de-bord"


@view(Action.PUBLIC)
def signin(ctx: Ctx) -> Response:
    next_url = _safe_next(ctx.request.query_params.get("suite", "") or ctx.field("suite"))
    if ctx.request.method == "GET":
        if ctx.user is not None:
            return redirect(next_url)
        return render(ctx.request, "auth/signin.html", {"next": next_url, "errors": {}})
    email = ctx.field("email")
    if len(email) > MAX_EMAIL:  # matches no account: the usual answer, nothing to record
        return render(
            ctx.request,
            "auth/signin.html",
            {"next": next_url, "email": "", "errors": {"email": WRONG_CREDENTIALS}},
            status_code=400,
        )
    try:
        token, _ = sign_in(
            session=ctx.db,
            email=email,
            password=ctx.field("password"),
            ip=ctx.ip,
            user_agent=ctx.request.headers.get("user-agent", ""),
            now=ctx.now,
            settings=ctx.settings,
        )
    except AuthError as error:
        ctx.db.commit()  # failures and locks are evidence: keep them
        return render(
            ctx.request,
            "auth/signin.html",
            {"next": next_url, "email": email, "errors": {error.field: error.message}},
            status_code=400,
        )
    ctx.db.commit()
    ctx.new_cookies[session_cookie_name(ctx.settings)] = token
    return redirect(next_url)


@view(Action.SIGNED_IN)
def signout(ctx: Ctx) -> Response:
    assert ctx.auth_session is not None
    sign_out(session=ctx.db, auth_session=ctx.auth_session, ip=ctx.ip, now=ctx.now)
    ctx.db.commit()
    ctx.new_cookies[session_cookie_name(ctx.settings)] = None
    return redirect("/connexion?deconnecte=1")


def _set_password(ctx: Ctx, purpose: TokenPurpose, template: str) -> Response:
    token = ctx.request.path_params["token"]
    link = find_link(ctx.db, token, now=ctx.now)
    if link is None or link.purpose != purpose.value:
        return render(ctx.request, "auth/link_invalid.html", status_code=404)
    if ctx.request.method == "GET":
        return render(ctx.request, template, {"person": link.user, "errors": {}})
    try:
        use_link(
            session=ctx.db,
            token=token,
            password=ctx.field("password"),
            confirm=ctx.field("confirm"),
            ip=ctx.ip,
            now=ctx.now,
        )
    except AuthError as error:
        return render(
            ctx.request,
            template,
            {"person": link.user, "errors": {error.field: error.message}},
            status_code=400,
        )
    ctx.db.commit()
    return redirect("/connexion?mot-de-passe=1")


@view(Action.PUBLIC)
def invitation(ctx: Ctx) -> Response:
    return _set_password(ctx, TokenPurpose.INVITATION, "auth/invitation.html")


@view(Action.PUBLIC)
def reset(ctx: Ctx) -> Response:
    return _set_password(ctx, TokenPurpose.RESET, "auth/reset.html")


@view(Action.PUBLIC)
def reset_request(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return render(ctx.request, "auth/reset_request.html", {"errors": {}})
    email = ctx.field("email").strip()
    if "@" not in email:
        return render(
            ctx.request,
            "auth/reset_request.html",
            {"email": email, "errors": {"email": "Saisissez une adresse électronique valide."}},
            status_code=400,
        )
    user = find_user(ctx.db, email)
    if user is not None and user.is_active and user.password_hash:
        token = create_link(
            session=ctx.db,
            actor=ctx.actor,
            user=user,
            purpose=TokenPurpose.RESET,
            now=ctx.now,
            settings=ctx.settings,
        )
        ctx.db.commit()
        send_reset_mail(ctx.settings, user, token)
    # Same answer whether the account exists or not: addresses are not disclosed.
    return render(ctx.request, "auth/reset_sent.html")


routes = [
    Route("/connexion", signin, methods=["GET", "POST"], name="signin"),
    Route("/deconnexion", signout, methods=["POST"], name="signout"),
    Route("/invitation/{token}", invitation, methods=["GET", "POST"], name="invitation"),
    Route("/mot-de-passe-oublie", reset_request, methods=["GET", "POST"], name="reset_request"),
    Route("/reinitialisation/{token}", reset, methods=["GET", "POST"], name="reset"),
]
