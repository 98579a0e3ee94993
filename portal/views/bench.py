"""The benchmark's ceiling page (issue 9), like TechEmpower's Fortunes: one query, one small
template, through the same middleware and database session as every page.

Registered only when ``VAE_BENCH=1`` is set when the app is created (``python -m bench.load``
sets it on the server it starts); otherwise ``routes`` is empty and the path answers 404.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from portal.permissions import Action
from portal.templating import templates
from portal.web import db
from vae.referentiel.models import CriterionRecord


def ceiling(request: Request) -> HTMLResponse:
    rows = db(request).execute(
        select(CriterionRecord.key, CriterionRecord.label).order_by(CriterionRecord.id).limit(10)
    )
    criteria = [(key, label) for key, label in rows]
    criteria.append(("BENCH", "Critère ajouté à la requête"))
    criteria.sort(key=lambda row: row[1])
    html = templates.get_template("bench/ceiling.html").render(criteria=criteria)
    return HTMLResponse(html)


ceiling.__policy__ = Action.PUBLIC  # type: ignore[attr-defined]


def _routes() -> list[BaseRoute]:
    if os.environ.get("VAE_BENCH") != "1":
        return []
    return [Route("/bench/ceiling", ceiling, methods=["GET"], name="bench_ceiling")]


routes = _routes()
