"""The livret 2 as one PDF, annexes merged with bookmarks.

``GET /parcours/{id}/livret.pdf``: the latest submitted edition when the livret is submitted,
else the draft; ``?edition=N`` picks a submitted edition (frozen), or the draft when N is the
edition being written. Whoever may see the parcours may download it; each download is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal.permissions import Action, parcours_visible
from portal.web import Ctx, view
from vae.audit.service import record
from vae.livret.models import Livret, LivretStatus, LivretSubmission
from vae.parcours.models import Parcours
from vae.parcours.models import Route as ParcoursRoute
from vae.referentiel.service import get_referentiel


def _livret(ctx: Ctx, parcours: Parcours) -> Livret:
    livret = ctx.db.scalar(select(Livret).where(Livret.parcours_id == parcours.id))
    if livret is None:
        # Not opened yet: an empty draft, not stored (a GET changes nothing).
        livret = Livret(
            parcours_id=parcours.id,
            status=LivretStatus.DRAFT.value,
            edition=1,
            current_job="",
            current_service="",
            career=[],
            trainings=[],
        )
        livret.parcours = parcours
    return livret


def _submission(ctx: Ctx, livret: Livret) -> LivretSubmission | None:
    """The edition asked for; None for the draft."""
    asked = ctx.request.query_params.get("edition")
    if asked is None:
        return livret.submissions[-1] if not livret.editable and livret.submissions else None
    if not asked.isdigit():
        raise HTTPException(404)
    for submission in livret.submissions:
        if submission.edition == int(asked):
            return submission
    if livret.editable and livret.edition == int(asked):
        return None
    raise HTTPException(404)


@view(Action.VIEW_PARCOURS)
def livret_pdf(ctx: Ctx) -> Response:
    from portal.pdf.livret import livret_pdf as render_pdf

    assert ctx.user is not None
    parcours = parcours_visible(ctx.db, ctx.user, ctx.path_int("parcours_id"))
    if parcours is None:
        raise ctx.not_found()
    if parcours.route != ParcoursRoute.VAE.value:
        raise HTTPException(404)  # no livret on the formation route
    livret = _livret(ctx, parcours)
    submission = _submission(ctx, livret)
    referentiel = get_referentiel(ctx.db, parcours.certification.version_id)
    assert referentiel is not None
    pdf = render_pdf(
        livret=livret,
        certification=referentiel.certification(parcours.certification.code),
        candidate=parcours.candidate,
        employer=parcours.employer,
        annex_dir=ctx.settings.data_dir / "annexes",
        submission=submission,
        generated_at=ctx.now,
    )
    edition = submission.edition if submission is not None else livret.edition
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="livret.pdf_download",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=ctx.now,
        details={"livret": livret.id, "edition": edition, "submitted": submission is not None},
    )
    ctx.db.commit()
    state = f"edition-{edition}" if submission is not None else "brouillon"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="livret-{parcours.id}-{state}.pdf"'},
    )


routes: list[BaseRoute] = [
    Route("/parcours/{parcours_id:int}/livret.pdf", livret_pdf, methods=["GET"], name="livret_pdf"),
]
