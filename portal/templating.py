"""Jinja2 templates: one template per page, fragments as named blocks or _partials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound
from starlette.templating import Jinja2Templates

from portal.settings import REPO_ROOT
from vae.jury.rules import MONTHS_FR
from vae.people.models import Role

PARIS = ZoneInfo("Europe/Paris")
templates = Jinja2Templates(directory=str(REPO_ROOT / "templates"))
templates.env.autoescape = True


def _date_fr(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(PARIS)
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS_FR[value.month]} {value.year}"


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count <= 1 else plural}"


def _routes_named(app: Any) -> dict[str, list[Any]]:
    """The app's routes by name, built once: Starlette's ``url_path_for`` tries every route in
    turn (an exception each), which made URLs a large part of a long page's rendering time."""
    index: dict[str, list[Any]] | None = getattr(app.state, "routes_by_name", None)
    if index is None:
        index = {}
        for route in app.routes:
            name = getattr(route, "name", None)
            if name:
                index.setdefault(name, []).append(route)
        app.state.routes_by_name = index
    return index


@pass_context
def _url(context: Context, name: str, /, **params: Any) -> str:
    """A root-relative URL (``url_for`` would give an absolute one, wrong behind a proxy)."""
    request: Request = context["request"]
    for route in _routes_named(request.app).get(name, ()):
        try:
            return str(route.url_path_for(name, **params))
        except NoMatchFound:
            continue
    return str(request.app.url_path_for(name, **params))  # raises Starlette's own error


@pass_context
def _csrf(context: Context) -> str:
    """The CSRF token for forms and the htmx header (empty on pages outside ``view``)."""
    from portal.web import csrf_token

    ctx = getattr(context["request"].state, "ctx", None)
    return csrf_token(ctx) if ctx is not None else ""


@pass_context
def _current_user(context: Context) -> Any:
    ctx = getattr(context["request"].state, "ctx", None)
    return ctx.user if ctx is not None else None


templates.env.filters["zip_self"] = lambda values: [(v, v) for v in values]
templates.env.filters["org_option"] = lambda org: (org.id, org.name)
templates.env.globals["url"] = _url
templates.env.globals["Role_ADMIN"] = Role.ADMIN
templates.env.globals["Role_REFERENT"] = Role.REFERENT
templates.env.globals["Role_TUTEUR"] = Role.TUTEUR
templates.env.globals["Role_MANAGER"] = Role.MANAGER
templates.env.globals["Role_JURY_PRO"] = Role.JURY_PRO
templates.env.globals["Role_JURY_NATIONAL"] = Role.JURY_NATIONAL
templates.env.globals["csrf"] = _csrf
templates.env.globals["current_user"] = _current_user


def _paris_datetime(value: datetime | None) -> str:
    """« 12 mars 2027 à 14:05 », in French time."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{_date_fr(local)} à {local.strftime('%H:%M')}"


def _paris_time(value: datetime | None) -> str:
    """Wall-clock time in France for people (storage stays UTC)."""
    if value is None:
        return ""
    return value.astimezone(PARIS).strftime("%H:%M:%S")


templates.env.filters["date_fr"] = _date_fr
templates.env.filters["paris_time"] = _paris_time
templates.env.filters["paris_datetime"] = _paris_datetime
templates.env.filters["paris_hm"] = lambda value: value.astimezone(PARIS).strftime("%H:%M")
templates.env.globals["plural"] = _plural


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response
