"""The national jury's dossier page: the grid, the avis and its signatures, the recours, the
decisions per bloc (with a version token: a stale form is refused, 409), the dossier PDF; for
the administrators, taking a dossier off the agenda and delivering a CQP withheld at
proclamation once its prerequisites are recorded."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from portal.certificates import certificate_path, new_code, store_certificate_pdf
from portal.notify import notify_cqp
from portal.pdf.dossier_data import certification_for, load_dossier
from portal.permissions import Action, can
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.decision import national
from vae.decision import proclamation as proclaiming
from vae.decision.models import Certificate, NationalDossier
from vae.decision.rules import REASON_MAX
from vae.parcours.models import ROUTE_LABELS


def _dossier_row(ctx: Ctx) -> NationalDossier:
    dossier = ctx.db.get(NationalDossier, ctx.path_int("dossier_id"))
    if dossier is None:
        raise ctx.not_found()
    return dossier


def _dossier_page(
    ctx: Ctx,
    dossier_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: bool = False,
    conflict: bool = False,
    status_code: int = 200,
) -> Response:
    """The dossier; ``typed``: the decisions form was refused and shows what was typed
    (``conflict``: beside the decisions recorded meanwhile)."""
    assert ctx.user is not None
    data = load_dossier(ctx.db, dossier_id, now=ctx.now, recours_days=ctx.settings.recours_days)
    if data is None:
        raise ctx.not_found()
    errors = errors or {}
    context = {
        "data": data,
        "errors": errors,
        "decision_errors": {
            k: v for k, v in errors.items() if k.startswith(("validated-", "reason-"))
        },
        "conflict": conflict,
        "form": ctx.form if typed else None,
        "manage": can(ctx.user, Action.MANAGE_NATIONAL),
        "routes": ROUTE_LABELS,
        "reason_max": REASON_MAX,
    }
    return render(ctx.request, "national/dossier.html", context, status_code=status_code)


@view(Action.DELIBERATE)
def dossier_detail(ctx: Ctx) -> Response:
    return _dossier_page(ctx, _dossier_row(ctx).id)


@view(Action.DELIBERATE)
def decide(ctx: Ctx) -> Response:
    dossier = _dossier_row(ctx)
    choices = {}
    for avis in dossier.evaluation.avis:
        answer = ctx.field(f"validated-{avis.bloc_key}")
        validated = {"oui": True, "non": False}.get(answer)
        choices[avis.bloc_key] = national.Choice(validated, ctx.field(f"reason-{avis.bloc_key}"))
    try:
        national.record_decisions(
            session=ctx.db,
            actor=ctx.actor,
            dossier=dossier,
            choices=choices,
            version=ctx.field("version") or None,
            now=ctx.now,
        )
    except national.DecisionConflict as stale:
        ctx.db.rollback()
        message = (
            f"Les décisions ont été modifiées par {stale.by} pendant que vous les saisissiez. "
            "Les décisions enregistrées sont rappelées sous chaque bloc ; vos saisies sont "
            "conservées : vérifiez-les puis enregistrez à nouveau."
        )
        return _dossier_page(
            ctx,
            dossier.id,
            errors={"decisions": message},
            typed=True,
            conflict=True,
            status_code=409,
        )
    except national.DecisionErrors as refused:
        ctx.db.rollback()
        return _dossier_page(ctx, dossier.id, errors=refused.errors, typed=True, status_code=400)
    except national.NationalError as error:
        ctx.db.rollback()
        errors = {error.field: error.message}
        return _dossier_page(ctx, dossier.id, errors=errors, typed=True, status_code=400)
    ctx.db.commit()
    return redirect(f"/national/dossiers/{dossier.id}")


@view(Action.DELIBERATE)
def dossier_pdf(ctx: Ctx) -> Response:
    from portal.pdf.dossier import dossier_pdf as render_pdf

    data = load_dossier(
        ctx.db,
        _dossier_row(ctx).id,
        now=ctx.now,
        recours_days=ctx.settings.recours_days,
        summaries=True,
    )
    assert data is not None
    pdf = render_pdf(data, generated_at=ctx.now)
    name = f"dossier-certification-{data.dossier.id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@view(Action.MANAGE_NATIONAL)
def remove_dossier(ctx: Ctx) -> Response:
    dossier = _dossier_row(ctx)
    session_id = dossier.session_id
    try:
        national.remove_dossier(session=ctx.db, actor=ctx.actor, dossier=dossier, now=ctx.now)
    except national.NationalError as error:
        ctx.db.rollback()
        return _dossier_page(ctx, dossier.id, errors={error.field: error.message}, status_code=400)
    ctx.db.commit()
    return redirect(f"/national/sessions/{session_id}")


@view(Action.MANAGE_NATIONAL)
def issue_cqp(ctx: Ctx) -> Response:
    """Deliver a CQP withheld at proclamation once its prerequisites are recorded."""
    dossier = _dossier_row(ctx)
    try:
        certificate = _deliver_cqp(ctx, dossier)
    except national.NationalError as error:
        return _dossier_page(ctx, dossier.id, errors={error.field: error.message}, status_code=400)
    ctx.db.commit()
    notify_cqp(ctx.settings, certificate)
    return redirect(f"/national/dossiers/{dossier.id}")


def _deliver_cqp(ctx: Ctx, dossier: NationalDossier) -> Certificate:
    """Issue, render, seal and store the CQP in the request's transaction (rolled back, and
    the file removed, on any failure)."""
    written: Path | None = None
    try:
        certificate = proclaiming.issue_withheld_cqp(
            session=ctx.db,
            actor=ctx.actor,
            dossier=dossier,
            certification=certification_for(ctx.db, dossier.parcours),
            required=ctx.settings.cqp_prerequisites(dossier.parcours.route),
            new_code=new_code,
            now=ctx.now,
        )
        store_certificate_pdf(settings=ctx.settings, certificate=certificate)
        written = certificate_path(ctx.settings, certificate)
        ctx.db.flush()
    except BaseException:
        ctx.db.rollback()
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    return certificate


routes = [
    Route(
        "/national/dossiers/{dossier_id:int}",
        dossier_detail,
        methods=["GET"],
        name="national_dossier",
    ),
    Route(
        "/national/dossiers/{dossier_id:int}.pdf",
        dossier_pdf,
        methods=["GET"],
        name="national_dossier_pdf",
    ),
    Route(
        "/national/dossiers/{dossier_id:int}/decisions",
        decide,
        methods=["POST"],
        name="national_decide",
    ),
    Route(
        "/national/dossiers/{dossier_id:int}/retirer",
        remove_dossier,
        methods=["POST"],
        name="national_remove_dossier",
    ),
    Route(
        "/national/dossiers/{dossier_id:int}/cqp",
        issue_cqp,
        methods=["POST"],
        name="national_issue_cqp",
    ),
]
