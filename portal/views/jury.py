"""Jury sessions: planning, composition under the rules, convocations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import raiseload, selectinload
from starlette.responses import Response
from starlette.routing import Route

from carnet.queries import load_carnet
from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.jury import service
from vae.jury.models import QUALITY_LABELS, Convocation, JuryMember, JurySession, SessionKind
from vae.livret.models import Livret, LivretStatus
from vae.parcours.models import Parcours, ParcoursStatus
from vae.parcours.models import Route as ParcoursRoute
from vae.people.models import Role, User, UserRole

PARIS = ZoneInfo("Europe/Paris")


def not_ready(ctx: Ctx, parcours: Parcours) -> str | None:
    """Why a dossier cannot go to a jury yet (None when it can)."""
    if parcours.route == ParcoursRoute.VAE.value:
        livret = ctx.db.scalar(select(Livret).where(Livret.parcours_id == parcours.id))
        if livret is None or livret.status != LivretStatus.SUBMITTED.value:
            return f"Le livret 2 de {parcours.candidate.full_name} n'est pas soumis."
        return None
    progress = load_carnet(ctx.db, parcours).progress.values()
    missing = [p.key for p in progress if p.shortfall]
    if missing:
        return (
            f"Le carnet de suivi de {parcours.candidate.full_name} n'est pas complet "
            f"(blocs {', '.join(missing)})."
        )
    return None


def _sessions_for(ctx: Ctx) -> list[JurySession]:
    assert ctx.user is not None
    query = (
        select(JurySession)
        .options(selectinload(JurySession.members), selectinload(JurySession.convocations))
        .order_by(JurySession.day)
    )
    if not ctx.user.has_role(Role.ADMIN):
        query = query.join(JuryMember).where(JuryMember.user_id == ctx.user.id)
    return list(ctx.db.scalars(query))


@view(Action.VIEW_JURY_SESSIONS)
def sessions(ctx: Ctx) -> Response:
    assert ctx.user is not None
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        if not ctx.user.has_role(Role.ADMIN):
            raise ctx.forbidden()
        try:
            kind = SessionKind(ctx.field("kind"))
            day = date.fromisoformat(ctx.field("day"))
        except ValueError:
            errors = {"day": "Choisissez le type de session et une date valide."}
        else:
            try:
                created = service.plan_session(
                    session=ctx.db,
                    actor=ctx.actor,
                    kind=kind,
                    day=day,
                    place=ctx.field("place"),
                    capacity=ctx.int_field("capacity", 0),
                    months=ctx.settings.jury_months,
                    exam_days=ctx.settings.jury_exam_days,
                )
            except service.JuryError as error:
                errors = {error.field: error.message}
            else:
                ctx.db.commit()
                return redirect(f"/jury/sessions/{created.id}")
    return render(
        ctx.request,
        "jury/sessions.html",
        {
            "sessions": _sessions_for(ctx),
            "errors": errors,
            "form": ctx.form,
            "is_admin": ctx.user.has_role(Role.ADMIN),
        },
        status_code=400 if errors else 200,
    )


def _session(ctx: Ctx) -> JurySession:
    assert ctx.user is not None
    convened = selectinload(JurySession.convocations).selectinload(Convocation.parcours)
    jury_session = ctx.db.scalar(
        select(JurySession)
        .where(JurySession.id == ctx.path_int("session_id"))
        .options(
            # what the page and the composition review read, in a fixed number of queries
            selectinload(JurySession.members)
            .selectinload(JuryMember.user)
            .selectinload(User.organisation),
            # the candidates' management line and trainers: nothing here reads their roles
            convened.selectinload(Parcours.candidate).options(
                raiseload(User.role_rows),
                selectinload(User.manager).options(
                    raiseload(User.role_rows),
                    selectinload(User.manager).raiseload(User.role_rows),
                ),
            ),
            convened.selectinload(Parcours.employer),
            convened.selectinload(Parcours.certification),
            convened.selectinload(Parcours.trainers).raiseload(User.role_rows),
        )
    )
    if jury_session is None:
        raise ctx.not_found()
    if not ctx.user.has_role(Role.ADMIN) and not any(
        m.user_id == ctx.user.id for m in jury_session.members
    ):
        raise ctx.not_found()
    return jury_session


def _detail(
    ctx: Ctx,
    jury_session: JurySession,
    errors: dict[str, str] | None = None,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    assert ctx.user is not None
    is_admin = ctx.user.has_role(Role.ADMIN)
    context: dict[str, Any] = {
        "jury_session": jury_session,
        "review": service.session_review(jury_session),
        "is_admin": is_admin,
        "errors": errors or {},
        "refusal": problems or [],
        "qualities": QUALITY_LABELS,
        "form": ctx.form,
    }
    if is_admin:
        member_ids = {m.user_id for m in jury_session.members}
        context["candidates_for_jury"] = list(
            ctx.db.scalars(
                select(User)
                .where(
                    User.is_active.is_(True),
                    User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.JURY_PRO)),
                    User.id.not_in(member_ids),
                )
                .options(selectinload(User.organisation), raiseload(User.role_rows))
                .order_by(User.last_name, User.first_name)
            )
        )
        convened = {c.parcours_id for c in jury_session.convocations}
        context["open_parcours"] = [
            p
            for p in ctx.db.scalars(
                select(Parcours)
                .where(Parcours.status == ParcoursStatus.OPEN.value)
                .options(
                    selectinload(Parcours.candidate).raiseload(User.role_rows),
                    selectinload(Parcours.certification),
                    selectinload(Parcours.employer),
                )
                .order_by(Parcours.id)
                .limit(300)
            )
            if p.id not in convened
        ]
    return render(ctx.request, "jury/session.html", context, status_code=status_code)


@view(Action.VIEW_JURY_SESSIONS)
def session_detail(ctx: Ctx) -> Response:
    return _detail(ctx, _session(ctx))


@view(Action.MANAGE_JURY)
def assign(ctx: Ctx) -> Response:
    jury_session = _session(ctx)
    user = ctx.db.get(User, ctx.int_field("user_id"))
    if user is None:
        return _detail(
            ctx, jury_session, {"member": "Choisissez un membre de jury."}, status_code=400
        )
    try:
        service.assign_member(
            session=ctx.db,
            actor=ctx.actor,
            jury_session=jury_session,
            user=user,
            quality=ctx.field("quality"),
            now=ctx.now,
        )
    except service.JuryRuleViolation as violation:
        ctx.db.commit()  # the refusal is audited
        return _detail(
            ctx,
            jury_session,
            {"member": "Affectation refusée."},
            violation.problems,
            status_code=400,
        )
    except service.JuryError as error:
        ctx.db.rollback()
        return _detail(ctx, jury_session, {error.field: error.message}, status_code=400)
    ctx.db.commit()
    return redirect(f"/jury/sessions/{jury_session.id}")


def _time_on(day: date, value: str) -> datetime | None:
    try:
        hour, minute = (int(part) for part in value.split(":", 1))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
    except ValueError:
        return None


@view(Action.MANAGE_JURY)
def convene(ctx: Ctx) -> Response:
    jury_session = _session(ctx)
    parcours = ctx.db.get(Parcours, ctx.int_field("parcours_id"))
    at = _time_on(jury_session.day, ctx.field("time"))
    if parcours is None or at is None:
        errors = (
            {"parcours": "Choisissez un candidat."}
            if parcours is None
            else {"time": "Indiquez l'heure de passage (hh:mm)."}
        )
        return _detail(ctx, jury_session, errors, status_code=400)
    try:
        service.convene(
            session=ctx.db,
            actor=ctx.actor,
            jury_session=jury_session,
            parcours=parcours,
            at=at,
            not_ready=not_ready(ctx, parcours),
            now=ctx.now,
        )
    except service.JuryRuleViolation as violation:
        ctx.db.rollback()
        return _detail(
            ctx,
            jury_session,
            {"parcours": "Convocation refusée."},
            violation.problems,
            status_code=400,
        )
    except service.JuryError as error:
        ctx.db.rollback()
        return _detail(ctx, jury_session, {error.field: error.message}, status_code=400)
    ctx.db.commit()
    return redirect(f"/jury/sessions/{jury_session.id}")


@view(Action.MANAGE_JURY)
def reschedule(ctx: Ctx) -> Response:
    convocation = ctx.db.get(Convocation, ctx.path_int("convocation_id"))
    if convocation is None:
        raise ctx.not_found()
    jury_session = ctx.db.get(JurySession, convocation.session_id)
    assert jury_session is not None
    at = _time_on(jury_session.day, ctx.field("time"))
    if at is None:
        return _detail(
            ctx,
            jury_session,
            {f"time-{convocation.id}": "Indiquez l'heure (hh:mm)."},
            status_code=400,
        )
    service.reschedule(session=ctx.db, actor=ctx.actor, convocation=convocation, at=at, now=ctx.now)
    ctx.db.commit()
    return redirect(f"/jury/sessions/{jury_session.id}")


@view(Action.VIEW_CONVOCATION)
def convocation_pdf(ctx: Ctx) -> Response:
    from portal.pdf.convocation import convocation_pdf as render_pdf

    assert ctx.user is not None
    convocation = ctx.db.get(Convocation, ctx.path_int("convocation_id"))
    if convocation is None or not (
        convocation.parcours.candidate_id == ctx.user.id or ctx.user.has_role(Role.ADMIN)
    ):
        raise ctx.not_found()
    jury_session = ctx.db.get(JurySession, convocation.session_id)
    assert jury_session is not None
    pdf = render_pdf(convocation=convocation, jury_session=jury_session, generated_at=ctx.now)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="convocation-{convocation.id}.pdf"'},
    )


routes = [
    Route("/jury/sessions", sessions, methods=["GET", "POST"], name="jury_sessions"),
    Route("/jury/sessions/{session_id:int}", session_detail, methods=["GET"], name="jury_session"),
    Route("/jury/sessions/{session_id:int}/membres", assign, methods=["POST"], name="jury_assign"),
    Route(
        "/jury/sessions/{session_id:int}/convocations",
        convene,
        methods=["POST"],
        name="jury_convene",
    ),
    Route(
        "/jury/convocations/{convocation_id:int}/horaire",
        reschedule,
        methods=["POST"],
        name="jury_reschedule",
    ),
    Route(
        "/convocations/{convocation_id:int}.pdf",
        convocation_pdf,
        methods=["GET"],
        name="convocation_pdf",
    ),
]
