"""The landing page after sign-in: one section per role the person holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action, visible_parcours
from portal.results import results_for
from portal.templating import render
from portal.web import Ctx, view
from vae.decision.certificates import for_holder
from vae.decision.models import Evaluation
from vae.decision.rules import paris_day
from vae.jury.models import Convocation, JurySession
from vae.people.models import ROLE_LABELS, Role


@view(Action.SIGNED_IN)
def dashboard(ctx: Ctx) -> Response:
    assert ctx.user is not None
    parcours = visible_parcours(ctx.db, ctx.user, limit=200)
    sessions: Sequence[JurySession] = []
    if ctx.user.has_role(Role.ADMIN, Role.JURY_PRO, Role.JURY_NATIONAL):
        sessions = ctx.db.scalars(
            select(JurySession).where(JurySession.day >= ctx.now.date()).order_by(JurySession.day)
        ).all()
    own_ids = [p.id for p in parcours if p.candidate_id == ctx.user.id]
    convocations = _pending_convocations(ctx, own_ids)
    signed_avis = (
        set(
            ctx.db.scalars(
                select(Evaluation.parcours_id).where(
                    Evaluation.parcours_id.in_(own_ids), Evaluation.signed_at.is_not(None)
                )
            )
        )
        if own_ids
        else set()
    )
    return render(
        ctx.request,
        "dashboard.html",
        {
            "user": ctx.user,
            "role_labels": [ROLE_LABELS[r] for r in sorted(ctx.user.roles)],
            "own": [p for p in parcours if p.candidate_id == ctx.user.id],
            "followed": [p for p in parcours if p.candidate_id != ctx.user.id],
            "sessions": sessions,
            "convocations": convocations,
            "Role": Role,
            "results": results_for(ctx.db, parcours),
            "signed_avis": signed_avis,
            "certificates": (
                for_holder(ctx.db, ctx.user.id) if ctx.user.has_role(Role.CANDIDAT) else []
            ),
        },
    )


def _pending_convocations(ctx: Ctx, parcours_ids: list[int]) -> list[Convocation]:
    """The candidate's convocations still ahead: not past (Paris day) and whose avis is not
    signed yet."""
    if not parcours_ids:
        return []
    signed = select(Evaluation.convocation_id).where(Evaluation.signed_at.is_not(None))
    rows = ctx.db.scalars(
        select(Convocation)
        .where(Convocation.parcours_id.in_(parcours_ids), Convocation.id.not_in(signed))
        .order_by(Convocation.at)
    ).all()
    today = paris_day(ctx.now)
    return [c for c in rows if paris_day(c.at) >= today]


routes = [Route("/tableau-de-bord", dashboard, methods=["GET"], name="dashboard")]
