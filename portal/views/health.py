"""Liveness and readiness: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.permissions import Action
from portal.web import db


def healthz(request: Request) -> JSONResponse:
    # Outside ``view`` on purpose: probes carry no cookie and must stay cheap.
    try:
        db(request).execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "indisponible", "database": "error"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


healthz.__policy__ = Action.PUBLIC  # type: ignore[attr-defined]

routes = [Route("/healthz", healthz, methods=["GET"], name="healthz")]
