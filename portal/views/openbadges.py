"""The public Open Badges documents a verifier dereferences: the issuer profile (with its key),
an achievement at its id, and the issuer's 1EdTech Revocation List (``credentialStatus``).

All three are JSON and public; none names a holder. The revocation list gives only the ids of
revoked credentials (``urn:uuid:`` values derived from the certificates' codes, not the codes).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal.openbadges import achievement, issuer_profile, revocation_list
from portal.permissions import Action
from portal.settings import Settings
from portal.web import Ctx, view
from vae.decision.certificates import revoked_certificates
from vae.referentiel.model import Referentiel
from vae.referentiel.service import get_referentiel

PROFILE_CACHE = {"Cache-Control": "max-age=3600"}
# a revocation reaches verifiers within a minute
REVOCATIONS_CACHE = {"Cache-Control": "max-age=60"}


@view(Action.PUBLIC)
def openbadges_issuer(ctx: Ctx) -> Response:
    return JSONResponse(issuer_profile(ctx.settings), headers=PROFILE_CACHE)


def achievement_for_code(
    settings: Settings, referentiel: Referentiel, code: str
) -> dict[str, Any] | None:
    """The Achievement of the certification (RNCP35543) or bloc (RNCP35543BC03) ``code``."""
    for certification in referentiel.certifications:
        if certification.code == code:
            return achievement(
                settings,
                certification_code=certification.code,
                certification_title=certification.title,
            )
        for cert_bloc in certification.blocs:
            if cert_bloc.code == code:
                return achievement(
                    settings,
                    certification_code=certification.code,
                    certification_title=certification.title,
                    bloc_code=cert_bloc.code,
                    bloc_title=cert_bloc.title,
                )
    return None


@view(Action.PUBLIC)
def openbadges_achievement(ctx: Ctx) -> Response:
    code = str(ctx.request.path_params.get("code", ""))
    referentiel = get_referentiel(ctx.db)
    found = achievement_for_code(ctx.settings, referentiel, code) if referentiel else None
    if found is None:
        message = "Aucune certification ni aucun bloc de compétences n'a ce code."
        return JSONResponse({"error": "not_found", "message": message}, status_code=404)
    return JSONResponse(found, headers=PROFILE_CACHE)


@view(Action.PUBLIC)
def openbadges_revocations(ctx: Ctx) -> Response:
    document = revocation_list(ctx.settings, revoked_certificates(ctx.db))
    return JSONResponse(document, headers=REVOCATIONS_CACHE)
