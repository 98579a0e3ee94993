"""The signed avis as the candidate and the people who follow them read it, and the
candidate's answer: a reasoned recours, or the waiver."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action, parcours_visible
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.decision import evaluation as service
from vae.decision import recours, rules
from vae.decision.models import Evaluation
from vae.decision.signing import BROKEN_MESSAGE, signature_state
from vae.jury.models import QUALITY_LABELS
from vae.people.models import Role


def _sees_recours_text(ctx: Ctx, evaluation: Evaluation, is_candidate: bool) -> bool:
    """The recours is personal: the candidate, administrators, the national jury and the
    members of the session read it; the tutor, the manager and the référent only see that one
    was filed."""
    assert ctx.user is not None
    if is_candidate or ctx.user.has_role(Role.ADMIN) or ctx.user.has_role(Role.JURY_NATIONAL):
        return True
    return ctx.user.has_role(Role.JURY_PRO) and any(
        m.user_id == ctx.user.id for m in evaluation.session.members
    )


def _avis_context(ctx: Ctx, parcours_id: int, **extra: Any) -> dict[str, Any]:
    assert ctx.user is not None
    parcours = parcours_visible(ctx.db, ctx.user, parcours_id)
    if parcours is None:
        raise ctx.not_found()
    evaluation = service.load_for_parcours(ctx.db, parcours.id)
    signed = evaluation if evaluation is not None and evaluation.signed else None
    is_candidate = parcours.candidate_id == ctx.user.id
    context: dict[str, Any] = {
        "parcours": parcours,
        "evaluation": signed,
        "is_candidate": is_candidate,
        "qualities": QUALITY_LABELS,
        "errors": {},
        "text": "",
    }
    if signed is not None:
        certification = service.certification_of(ctx.db, signed)
        held = signed.held
        result = service.results(signed, certification, held)
        days = ctx.settings.recours_days
        broken = signature_state(signed) == "broken"
        proclaimed = recours.proclaimed_at(ctx.db, signed)
        answered = signed.recours is not None
        context.update(
            certification=certification,
            held=held,
            results={b.key: b for b in result.blocs},
            deadline=recours.recours_deadline(signed, days),
            broken=broken,
            broken_message=BROKEN_MESSAGE,
            proclaimed_at=proclaimed,
            proclaimed_message=recours.PROCLAIMED,
            recours_open=not broken
            and proclaimed is None
            and not answered
            and rules.recours_open(signed_at=signed.signed_at, now=ctx.now, days=days),
            show_recours_text=_sees_recours_text(ctx, signed, is_candidate),
        )
    context.update(extra)
    return context


@view(Action.VIEW_PARCOURS)
def avis_page(ctx: Ctx) -> Response:
    context = _avis_context(ctx, ctx.path_int("parcours_id"))
    return render(ctx.request, "evaluation/avis.html", context)


@view(Action.FILE_RECOURS)
def recours_post(ctx: Ctx) -> Response:
    """The candidate's answer: a recours (``text``) or, with ``action=waive``, the waiver
    (``confirm`` ticked)."""
    assert ctx.user is not None
    context = _avis_context(ctx, ctx.path_int("parcours_id"))
    evaluation: Evaluation | None = context["evaluation"]
    if not context["is_candidate"]:
        raise ctx.not_found()
    waive = ctx.field("action") == "waive"
    text = ctx.field("text")
    if evaluation is None:
        context["errors"] = {"text": "L'avis du jury n'est pas encore disponible."}
        return render(ctx.request, "evaluation/avis.html", context, status_code=400)
    try:
        if waive:
            recours.waive_recours(
                session=ctx.db,
                actor=ctx.actor,
                user=ctx.user,
                evaluation=evaluation,
                confirmed=ctx.field("confirm") == "1",
                now=ctx.now,
                days=ctx.settings.recours_days,
            )
        else:
            recours.file_recours(
                session=ctx.db,
                actor=ctx.actor,
                user=ctx.user,
                evaluation=evaluation,
                text=text,
                now=ctx.now,
                days=ctx.settings.recours_days,
            )
    except service.NotAllowed:
        raise ctx.not_found() from None
    except service.GridInvalid as error:
        ctx.db.rollback()
        context = _avis_context(ctx, context["parcours"].id, errors=error.errors, text=text)
        return render(ctx.request, "evaluation/avis.html", context, status_code=400)
    ctx.db.commit()
    return redirect(f"/parcours/{context['parcours'].id}/avis#recours")


routes = [
    Route("/parcours/{parcours_id:int}/avis", avis_page, methods=["GET"], name="parcours_avis"),
    Route("/parcours/{parcours_id:int}/avis", recours_post, methods=["POST"], name="parcours_avis"),
]
