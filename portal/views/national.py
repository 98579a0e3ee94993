"""The national deliberation: sessions and their agenda, the dossier and its decisions, the
proclamation that issues the CCP / CQP, the dossier PDF and the sealed procès-verbal."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from portal.certificates import certificate_path, new_code, store_certificate_pdf
from portal.notify import notify_results
from portal.pdf.dossier_data import certification_for
from portal.pdf.pv import pv_dir, pv_pdf, read_pv, store_pv
from portal.permissions import Action, can
from portal.seal import seal_pdf
from portal.templating import render
from portal.views.national_dossier import routes as dossier_routes
from portal.web import Ctx, redirect, view
from vae.decision import national, national_lists
from vae.decision import proclamation as proclaiming
from vae.decision.models import Evaluation, Proclamation
from vae.jury.models import JurySession, SessionKind
from vae.parcours.models import ROUTE_LABELS

log = logging.getLogger("vae_portal.national")
PV_REASON = "Procès-verbal de délibération du jury paritaire national"


def _session(ctx: Ctx) -> JurySession:
    jury = ctx.db.get(JurySession, ctx.path_int("session_id"))
    if jury is None or jury.kind != SessionKind.NATIONAL.value:
        raise ctx.not_found()
    return jury


@view(Action.DELIBERATE)
def sessions(ctx: Ctx) -> Response:
    rows = list(
        ctx.db.scalars(
            select(JurySession)
            .where(JurySession.kind == SessionKind.NATIONAL.value)
            .order_by(JurySession.day.desc())
            .limit(200)
        )
    )
    ids = [s.id for s in rows]
    proclaimed = {
        p.session_id: p
        for p in ctx.db.scalars(select(Proclamation).where(Proclamation.session_id.in_(ids)))
    }
    counted = national_lists.session_counts(ctx.db, ids)
    counts = {
        s.id: dict(zip(("dossiers", "decided"), counted.get(s.id, (0, 0)), strict=True))
        for s in rows
    }
    context = {"sessions": rows, "counts": counts, "proclaimed": proclaimed}
    return render(ctx.request, "national/sessions.html", context)


def _session_page(
    ctx: Ctx,
    jury: JurySession,
    *,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    assert ctx.user is not None
    dossiers = national_lists.agenda_rows(ctx.db, jury.id, recours_days=ctx.settings.recours_days)
    proclamation = national.proclamation_of(ctx.db, jury.id)
    manage = can(ctx.user, Action.MANAGE_NATIONAL)
    issued = national_lists.certificates_by_dossier(ctx.db, jury.id) if proclamation else {}
    context: dict[str, Any] = {
        "jury_session": jury,
        "dossiers": dossiers,
        "proclamation": proclamation,
        "certificates": {d.id: issued.get(d.id, []) for d in dossiers},
        "manage": manage,
        "schedulable": national.schedulable(ctx.db) if manage and not proclamation else [],
        "errors": errors or {},
        "problems": problems or [],
        "form": ctx.form,
        "routes": ROUTE_LABELS,
        "now": ctx.now,
    }
    return render(ctx.request, "national/session.html", context, status_code=status_code)


@view(Action.DELIBERATE)
def session_detail(ctx: Ctx) -> Response:
    return _session_page(ctx, _session(ctx))


@view(Action.MANAGE_NATIONAL)
def add_dossier(ctx: Ctx) -> Response:
    jury = _session(ctx)
    evaluation = ctx.db.get(Evaluation, ctx.int_field("evaluation_id"))
    try:
        national.add_dossier(
            session=ctx.db, actor=ctx.actor, jury_session=jury, evaluation=evaluation, now=ctx.now
        )
    except national.NationalError as error:
        ctx.db.rollback()
        return _session_page(ctx, jury, errors={error.field: error.message}, status_code=400)
    ctx.db.commit()
    return redirect(f"/national/sessions/{jury.id}")


@view(Action.PROCLAIM)
def proclaim(ctx: Ctx) -> Response:
    jury = _session(ctx)
    if ctx.field("confirm") != "oui":
        message = "Cochez la case pour confirmer la proclamation de la session."
        return _session_page(ctx, jury, errors={"confirm": message}, status_code=400)
    try:
        proclaimed = _publish(ctx, jury)
    except national.ProclamationRefused as refused:
        return _session_page(ctx, jury, problems=refused.problems, status_code=400)
    except national.NationalError as error:
        return _session_page(ctx, jury, errors={error.field: error.message}, status_code=400)
    ctx.db.commit()
    notify_results(ctx.settings, ctx.db, proclaimed)
    return redirect(f"/national/sessions/{jury.id}")


def _publish(ctx: Ctx, jury: JurySession) -> proclaiming.Proclaimed:
    """Issue, render, seal and store everything in the request's transaction: on any failure
    the rows are rolled back and the files already written are removed."""
    written: list[Path] = []
    try:
        proclaimed = proclaiming.proclaim(
            session=ctx.db,
            actor=ctx.actor,
            jury_session=jury,
            certifications=lambda parcours: certification_for(ctx.db, parcours),
            prerequisites=ctx.settings.cqp_prerequisites,
            new_code=new_code,
            recours_days=ctx.settings.recours_days,
            now=ctx.now,
        )
        for certificate in proclaimed.certificates:
            store_certificate_pdf(settings=ctx.settings, certificate=certificate)
            path = certificate_path(ctx.settings, certificate)
            if path is not None:
                written.append(path)
        pdf = pv_pdf(jury_session=jury, proclaimed=proclaimed, proclaimed_by=ctx.user)
        name, digest = store_pv(ctx.settings, seal_pdf(ctx.settings, pdf, reason=PV_REASON))
        written.append(pv_dir(ctx.settings) / name)
        proclaiming.record_proclamation(
            session=ctx.db,
            actor=ctx.actor,
            proclaimed=proclaimed,
            pv_file=name,
            pv_sha256=digest,
            now=ctx.now,
        )
    except BaseException:
        ctx.db.rollback()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return proclaimed


@view(Action.DELIBERATE)
def pv(ctx: Ctx) -> Response:
    jury = _session(ctx)
    proclamation = national.proclamation_of(ctx.db, jury.id)
    if proclamation is None:
        raise ctx.not_found()
    data = read_pv(ctx.settings, proclamation)
    if data is None:
        log.error("procès-verbal of session %s missing or altered", jury.id)
        raise ctx.not_found()
    name = f"proces-verbal-{jury.day.isoformat()}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [
    Route("/national/sessions", sessions, methods=["GET"], name="national_sessions"),
    Route(
        "/national/sessions/{session_id:int}",
        session_detail,
        methods=["GET"],
        name="national_session",
    ),
    Route(
        "/national/sessions/{session_id:int}/dossiers",
        add_dossier,
        methods=["POST"],
        name="national_add_dossier",
    ),
    Route(
        "/national/sessions/{session_id:int}/proclamer",
        proclaim,
        methods=["POST"],
        name="national_proclaim",
    ),
    Route("/national/sessions/{session_id:int}/pv.pdf", pv, methods=["GET"], name="national_pv"),
    *dossier_routes,
]
