"""A parcours summary, visible to the people the object rules allow."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action, parcours_visible
from portal.templating import render
from portal.web import Ctx, view
from vae.parcours.models import ROUTE_LABELS
from vae.parcours.models import Route as ParcoursRoute
from vae.referentiel.service import get_referentiel


@view(Action.VIEW_PARCOURS)
def detail(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours = parcours_visible(ctx.db, ctx.user, ctx.path_int("parcours_id"))
    if parcours is None:
        raise ctx.not_found()
    referentiel = get_referentiel(ctx.db, parcours.certification.version_id)
    assert referentiel is not None
    return render(
        ctx.request,
        "parcours/detail.html",
        {
            "parcours": parcours,
            "certification": referentiel.certification(parcours.certification.code),
            "route_label": ROUTE_LABELS[ParcoursRoute(parcours.route)],
        },
    )


routes = [Route("/parcours/{parcours_id:int}", detail, methods=["GET"], name="parcours")]
