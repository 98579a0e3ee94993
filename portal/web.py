"""The request plumbing every handler shares: context, sign-in state, CSRF, policy check.

A handler is a plain function ``def handler(ctx: Ctx) -> Response`` declared with
``@view(Action.X)``. The wrapper reads the form (unsafe methods), then, in the thread pool:
resolves the signed-in user from the session cookie, checks the policy table, checks the
CSRF token, and only then calls the handler.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal.accounts.models import AuthSession
from portal.accounts.service import actor_for, resolve_session
from portal.formcheck import text_is_utf8
from portal.permissions import Action, can
from portal.settings import Settings
from portal.templating import render
from vae.audit.service import Actor, record
from vae.orm import utcnow
from vae.people.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_FIELDS = 2000
MAX_FORM_FILES = 20
MAX_PART_SIZE = 2 * 1024 * 1024  # a text field; files have their own limits
MAX_ID = 2**31 - 1


def db(request: Request) -> Session:
    session: Session = request.state.db
    return session


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def session_cookie_name(settings: Settings) -> str:
    return "__Host-session" if settings.https else "session"


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-csrf" if settings.https else "csrf"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def clean_text(value: str) -> str:
    """Text as the person typed it, in one canonical form: browsers send CRLF from a plain form
    and LF from htmx, and NUL characters (pasted from PDFs) are not text and PostgreSQL refuses
    them."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


@dataclass
class Ctx:
    request: Request
    db: Session
    settings: Settings
    now: datetime
    user: User | None = None
    auth_session: AuthSession | None = None
    form: FormData | None = None
    new_cookies: dict[str, str | None] = field(default_factory=dict)

    @property
    def ip(self) -> str:
        return client_ip(self.request)

    @property
    def actor(self) -> Actor:
        if self.user is None:
            return Actor(user_id=None, label="anonyme", ip=self.ip)
        return actor_for(self.user, self.ip)

    def field(self, name: str, default: str = "") -> str:
        if self.form is None:
            return default
        value = self.form.get(name, default)
        return clean_text(value) if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [clean_text(v) for v in self.form.getlist(name) if isinstance(v, str)]

    @property
    def htmx(self) -> bool:
        """An htmx request: answer with the fragment, not the whole page."""
        return self.request.headers.get("hx-request") == "true"

    def int_field(self, name: str, default: int = -1) -> int:
        """A whole number from the form; ``default`` when missing, malformed or out of range."""
        try:
            value = int(self.field(name))
        except ValueError:
            return default
        return value if -MAX_ID <= value <= MAX_ID else default

    def path_int(self, name: str) -> int:
        try:
            value = int(self.request.path_params[name])
        except (KeyError, ValueError):
            raise HTTPException(404) from None
        if not 0 < value <= MAX_ID:  # beyond any database integer: nothing there
            raise HTTPException(404)
        return value

    def not_found(self, what: str = "") -> HTTPException:
        """Audit the refusal and return the 404 to raise (existence is never leaked)."""
        deny(self, 404, what or self.request.url.path)
        return HTTPException(404)

    def forbidden(self, what: str = "") -> HTTPException:
        deny(self, 403, what or self.request.url.path)
        return HTTPException(403)


def deny(ctx: Ctx, status: int, what: str) -> None:
    """Audit a denial. Nothing of a denied request is kept but this entry."""
    ctx.db.rollback()
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="access.denied",
        object_type="route",
        object_id=f"{ctx.request.method} {what}"[:60],
        outcome=str(status),
        now=ctx.now,
    )
    ctx.db.commit()


def _resolve(ctx: Ctx) -> None:
    token = ctx.request.cookies.get(session_cookie_name(ctx.settings), "")
    if token:
        ctx.auth_session = resolve_session(ctx.db, token, now=ctx.now, settings=ctx.settings)
        ctx.user = ctx.auth_session.user if ctx.auth_session else None
        if ctx.auth_session is None:
            ctx.new_cookies[session_cookie_name(ctx.settings)] = None  # drop the stale cookie


def csrf_token(ctx: Ctx) -> str:
    """The token forms and htmx must send back: the session's, or an anonymous cookie's."""
    if ctx.auth_session is not None:
        return ctx.auth_session.csrf_token
    name = csrf_cookie_name(ctx.settings)
    token = ctx.new_cookies.get(name) or ctx.request.cookies.get(name, "")
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
        ctx.new_cookies[name] = token
    return token


def _csrf_ok(ctx: Ctx) -> bool:
    sent = ctx.request.headers.get(CSRF_HEADER) or ctx.field(CSRF_FIELD)
    if ctx.auth_session is not None:
        expected = ctx.auth_session.csrf_token
    else:
        expected = ctx.request.cookies.get(csrf_cookie_name(ctx.settings), "")
    return bool(sent and expected) and hmac.compare_digest(sent, expected)


def set_cookie(response: Response, settings: Settings, name: str, value: str | None) -> None:
    if value is None:
        response.delete_cookie(name, path="/", secure=settings.https, httponly=True, samesite="lax")
    else:
        response.set_cookie(
            name, value, path="/", secure=settings.https, httponly=True, samesite="lax"
        )


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path
    return RedirectResponse(f"/connexion?suite={quote(target, safe='/')}", status_code=303)


def session_expired(ctx: Ctx) -> Response:
    """A form sent after the session ended: nothing is saved, and nothing typed is lost either:
    the texts come back to be copied (htmx gets a short notice in place of its target)."""
    from portal.templating import render

    texts = []
    if ctx.form is not None:
        for name, value in ctx.form.multi_items():
            if isinstance(value, str) and name not in HIDDEN_FIELDS and value.strip():
                texts.append((name, clean_text(value)))
    context = {"texts": texts, "target": ctx.request.url.path}
    if not ctx.htmx:
        return render(ctx.request, "session_expired.html", context, status_code=401)
    response = render(ctx.request, "_partials/session_expired.html", context, status_code=401)
    # into the page's alert region, whatever the request targeted (the editor keeps its text)
    response.headers["HX-Retarget"] = "#session-alert"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


HIDDEN_FIELDS = frozenset(
    {
        CSRF_FIELD,
        "lock_version",
        "base_number",
        "password",
        "current",
        "confirm",
        "content_hash",
        "suite",
    }
)

Handler = Callable[[Ctx], Response]


def view(action: Action) -> Callable[[Handler], Callable[[Request], Any]]:
    """Declare the action a handler needs; the returned endpoint enforces it."""

    def decorate(handler: Handler) -> Callable[[Request], Any]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            form = None
            if request.method not in SAFE_METHODS:
                body = await request.body()  # kept by the request: form() reads it again
                if not text_is_utf8(request.headers.get("content-type", ""), body):
                    return _undecodable(request)
                form = await request.form(
                    max_files=MAX_FORM_FILES,
                    max_fields=MAX_FORM_FIELDS,
                    max_part_size=MAX_PART_SIZE,
                )
            return await run_in_threadpool(_run, request, form)

        def _run(request: Request, form: FormData | None) -> Response:
            ctx = Ctx(
                request=request,
                db=db(request),
                settings=settings_of(request),
                now=utcnow(),
                form=form,
            )
            _resolve(ctx)
            request.state.ctx = ctx
            if action is not Action.PUBLIC:
                if ctx.user is None:
                    response: Response = (
                        sign_in_redirect(request)
                        if request.method in SAFE_METHODS
                        else session_expired(ctx)
                    )
                    _apply_cookies(response, ctx)
                    return response
                if not can(ctx.user, action):
                    raise ctx.forbidden(action.value)
            if form is not None and not _csrf_ok(ctx):
                deny(ctx, 403, "csrf")
                raise HTTPException(403, "csrf")
            response = handler(ctx)
            _apply_cookies(response, ctx)
            return response

        endpoint.__policy__ = action  # type: ignore[attr-defined]
        return endpoint

    return decorate


def _undecodable(request: Request) -> Response:
    message = (
        "Le formulaire contient des caractères illisibles (texte qui n'est pas en UTF-8) : "
        "rien n'a été enregistré. Revenez à la page et saisissez le texte à nouveau."
    )
    if request.headers.get("hx-request") == "true":
        return HTMLResponse(f'<p class="alert error" role="alert">{message}</p>', status_code=400)
    return render(request, "error.html", {"status_code": 400, "detail": message}, 400)


def _apply_cookies(response: Response, ctx: Ctx) -> None:
    for name, value in ctx.new_cookies.items():
        set_cookie(response, ctx.settings, name, value)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
