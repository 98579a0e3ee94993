"""Application factory."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.db import make_engine, make_session_factory, writer
from portal.security import SecurityMiddleware
from portal.settings import REPO_ROOT, Settings, load_settings
from portal.templating import render
from portal.views import (
    account,
    admin,
    auth,
    avis,
    bench,
    carnet,
    certificates,
    dashboard,
    enrolment,
    evaluation,
    health,
    home,
    jury,
    livret,
    livret_annexes,
    livret_pdf,
    national,
    pack,
    parcours,
    referentiel,
    rgpd,
    statistics,
)

log = logging.getLogger("vae_portal")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class DatabaseSessionMiddleware:
    """One SQLAlchemy session per request, closed when the response is sent.

    Requests that may write get a session bound to ``writer(engine)`` (IMMEDIATE transactions
    on SQLite); the session only takes a connection when first used.
    """

    def __init__(
        self,
        app: ASGIApp,
        read_factory: Callable[[], Session],
        write_factory: Callable[[], Session],
    ) -> None:
        self.app = app
        self.read_factory = read_factory
        self.write_factory = write_factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        factory = self.read_factory if scope["method"] in SAFE_METHODS else self.write_factory
        session = factory()
        scope.setdefault("state", {})["db"] = session
        try:
            await self.app(scope, receive, send)
        finally:
            session.close()


def routes() -> list[BaseRoute]:
    return [
        *home.routes,
        *health.routes,
        *referentiel.routes,
        *auth.routes,
        *account.routes,
        *rgpd.routes,
        *dashboard.routes,
        *parcours.routes,
        *admin.routes,
        *enrolment.routes,
        *carnet.routes,
        *livret.routes,
        *livret_annexes.routes,
        *livret_pdf.routes,
        *jury.routes,
        *pack.routes,
        *national.routes,
        *evaluation.routes,
        *avis.routes,
        *statistics.routes,
        *certificates.routes,
        *bench.routes,
        Mount("/static", app=StaticFiles(directory=str(REPO_ROOT / "static")), name="static"),
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render(
        request,
        "error.html",
        {"status_code": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: a French page, the details stay in the server log."""
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    if not detail:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return render(request, "error.html", {"status_code": 500, "detail": detail}, status_code=500)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database does not answer (restart, failover, lock timeout): a French 503 that needs
    no database, and the engine's pre-ping reconnects by itself once it is back."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    response = render(request, "unavailable.html", {}, status_code=503)
    response.headers["Retry-After"] = "5"
    return response


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: Callable[[], Session] | None = None,
) -> Starlette:
    """Build the app. Tests pass a ``session_factory`` bound to a rolled-back transaction."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    read_factory = session_factory or make_session_factory(engine)
    write_factory = session_factory or make_session_factory(writer(engine))
    app = Starlette(
        debug=settings.debug,
        routes=routes(),
        exception_handlers={
            400: http_error,
            401: http_error,
            403: http_error,
            404: http_error,
            405: http_error,
            413: http_error,
            500: server_error,
            OperationalError: database_unavailable,
            InterfaceError: database_unavailable,
        },
    )
    app.state.settings = settings
    app.state.engine = engine
    app.add_middleware(
        DatabaseSessionMiddleware, read_factory=read_factory, write_factory=write_factory
    )
    app.add_middleware(SecurityMiddleware, settings=settings)
    return app
