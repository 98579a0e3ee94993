"""The public home page."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, redirect, view


@view(Action.PUBLIC)
def home(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return redirect("/tableau-de-bord")
    return render(ctx.request, "home.html")


routes = [Route("/", home, methods=["GET"], name="home")]
