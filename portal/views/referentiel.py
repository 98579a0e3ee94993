"""The public, navigable référentiel: certifications → blocs → competences → criteria."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, db, view
from vae.referentiel.model import Referentiel
from vae.referentiel.service import get_referentiel
from vae.rules import required_count


def _referentiel(request: Request) -> Referentiel:
    referentiel = get_referentiel(db(request))
    if referentiel is None:
        raise HTTPException(404, "Le référentiel n'est pas encore chargé.")
    return referentiel


@view(Action.PUBLIC)
def overview(ctx: Ctx) -> Response:
    request = ctx.request
    return render(request, "referentiel/index.html", {"referentiel": _referentiel(request)})


@view(Action.PUBLIC)
def certification(ctx: Ctx) -> Response:
    request = ctx.request
    referentiel = _referentiel(request)
    try:
        cert = referentiel.certification(request.path_params["code"])
    except KeyError:
        raise HTTPException(404, "Certification inconnue.") from None
    return render(
        request,
        "referentiel/certification.html",
        {"referentiel": referentiel, "certification": cert},
    )


@view(Action.PUBLIC)
def bloc(ctx: Ctx) -> Response:
    request = ctx.request
    referentiel = _referentiel(request)
    try:
        cert = referentiel.certification(request.path_params["code"])
        cert_bloc = cert.bloc(request.path_params["key"])
    except KeyError:
        raise HTTPException(404, "Bloc inconnu.") from None
    shared_with = [
        other
        for other in referentiel.certifications
        if other.code != cert.code and cert_bloc.key in other.bloc_keys
    ]
    return render(
        request,
        "referentiel/bloc.html",
        {
            "referentiel": referentiel,
            "certification": cert,
            "cert_bloc": cert_bloc,
            "bloc": cert_bloc.bloc,
            "shared_with": shared_with,
            "required_count": required_count,
        },
    )


routes = [
    Route("/referentiel", overview, methods=["GET"], name="referentiel"),
    Route("/referentiel/{code}", certification, methods=["GET"], name="referentiel_certification"),
    Route("/referentiel/{code}/{key}", bloc, methods=["GET"], name="referentiel_bloc"),
]
