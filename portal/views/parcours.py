"""A parcours summary, visible to the people the object rules allow; its trainers and the
prerequisites of the CQP."""

from __future__ import annotations

from datetime import date

from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action, parcours_visible
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.decision import prerequisites
from vae.decision.rules import PREREQUISITE_LABELS
from vae.parcours.models import ROUTE_LABELS, Parcours
from vae.parcours.models import Route as ParcoursRoute
from vae.parcours.service import ParcoursError, add_trainer, remove_trainer
from vae.people.models import Role
from vae.people.service import find_user
from vae.referentiel.service import get_referentiel


def _visible(ctx: Ctx) -> Parcours:
    assert ctx.user is not None
    parcours = parcours_visible(ctx.db, ctx.user, ctx.path_int("parcours_id"))
    if parcours is None:
        raise ctx.not_found()
    return parcours


def _can_manage(ctx: Ctx, parcours: Parcours) -> bool:
    assert ctx.user is not None
    return ctx.user.has_role(Role.ADMIN) or (
        ctx.user.has_role(Role.REFERENT) and ctx.user.organisation_id == parcours.employer_id
    )


def _page(
    ctx: Ctx, parcours: Parcours, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    referentiel = get_referentiel(ctx.db, parcours.certification.version_id)
    assert referentiel is not None
    return render(
        ctx.request,
        "parcours/detail.html",
        {
            "parcours": parcours,
            "certification": referentiel.certification(parcours.certification.code),
            "route_label": ROUTE_LABELS[ParcoursRoute(parcours.route)],
            "can_manage": _can_manage(ctx, parcours),
            "prerequisites": prerequisites.recorded(ctx.db, parcours.id),
            "required_prerequisites": ctx.settings.cqp_prerequisites(parcours.route),
            "prerequisite_labels": PREREQUISITE_LABELS,
            "errors": errors or {},
            "form": ctx.form,
        },
        status_code=status_code,
    )


@view(Action.VIEW_PARCOURS)
def detail(ctx: Ctx) -> Response:
    return _page(ctx, _visible(ctx))


@view(Action.ENROL)
def trainer_add(ctx: Ctx) -> Response:
    parcours = _visible(ctx)
    if not _can_manage(ctx, parcours):
        raise ctx.forbidden()
    trainer = find_user(ctx.db, ctx.field("email"))
    if trainer is None:
        return _page(ctx, parcours, {"trainer": "Aucun compte ne porte cette adresse."}, 400)
    try:
        add_trainer(
            session=ctx.db, actor=ctx.actor, parcours=parcours, trainer=trainer, now=ctx.now
        )
    except ParcoursError as error:
        ctx.db.rollback()
        return _page(ctx, parcours, {"trainer": error.message}, 400)
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}#formateurs")


@view(Action.ENROL)
def trainer_remove(ctx: Ctx) -> Response:
    parcours = _visible(ctx)
    if not _can_manage(ctx, parcours):
        raise ctx.forbidden()
    remove_trainer(
        session=ctx.db,
        actor=ctx.actor,
        parcours=parcours,
        trainer_id=ctx.path_int("user_id"),
        now=ctx.now,
    )
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}#formateurs")


@view(Action.RECORD_PREREQUISITE)
def prerequisite_add(ctx: Ctx) -> Response:
    parcours = _visible(ctx)
    if not _can_manage(ctx, parcours):
        raise ctx.forbidden()
    try:
        completed_on = date.fromisoformat(ctx.field("completed_on"))
    except ValueError:
        return _page(ctx, parcours, {"completed_on": "Indiquez une date valide."}, 400)
    try:
        prerequisites.record_prerequisite(
            session=ctx.db,
            actor=ctx.actor,
            parcours=parcours,
            key=ctx.field("prerequisite"),
            completed_on=completed_on,
            now=ctx.now,
        )
    except prerequisites.PrerequisiteError as error:
        ctx.db.rollback()
        return _page(ctx, parcours, {error.field: error.message}, 400)
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}#prerequis")


@view(Action.RECORD_PREREQUISITE)
def prerequisite_remove(ctx: Ctx) -> Response:
    parcours = _visible(ctx)
    if not _can_manage(ctx, parcours):
        raise ctx.forbidden()
    prerequisites.remove_prerequisite(
        session=ctx.db,
        actor=ctx.actor,
        parcours=parcours,
        key=ctx.request.path_params["key"],
        now=ctx.now,
    )
    ctx.db.commit()
    return redirect(f"/parcours/{parcours.id}#prerequis")


routes = [
    Route("/parcours/{parcours_id:int}", detail, methods=["GET"], name="parcours"),
    Route(
        "/parcours/{parcours_id:int}/formateurs",
        trainer_add,
        methods=["POST"],
        name="parcours_trainer_add",
    ),
    Route(
        "/parcours/{parcours_id:int}/formateurs/{user_id:int}/retirer",
        trainer_remove,
        methods=["POST"],
        name="parcours_trainer_remove",
    ),
    Route(
        "/parcours/{parcours_id:int}/prerequis",
        prerequisite_add,
        methods=["POST"],
        name="parcours_prerequisite_add",
    ),
    Route(
        "/parcours/{parcours_id:int}/prerequis/{key}/retirer",
        prerequisite_remove,
        methods=["POST"],
        name="parcours_prerequisite_remove",
    ),
]
