"""The interview pack (dossier d'entretien) of a convocation, on screen and as a PDF, and the
batch that prepares every pack of a jury session as one zip.

Only the members of the convocation's session and the administrators see them; anyone else
gets a 404 (the policy action is ``VIEW_PARCOURS``, membership is checked here). A member also
has to see the candidate's parcours, which excludes a candidate of their own organisme.
Every download is audited.

The batch runs in a background thread of the process that received the POST (see
``portal.pdf.pack_batch``); its progress lives in the database, so the htmx poll may reach any
process.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from carnet.rules import VERDICT_NAMES
from portal.db import make_session_factory, writer
from portal.pdf import pack_batch
from portal.pdf.livret_parts import RUBRIC_HEADINGS
from portal.pdf.pack_data import TITLE, PackData, load_pack, long_date, paris_time
from portal.pdf.pack_models import BatchStatus
from portal.permissions import Action, parcours_clause, parcours_visible
from portal.templating import render
from portal.web import Ctx, redirect, view
from vae.audit.service import record
from vae.jury.models import Convocation, JuryMember, JurySession, SessionKind
from vae.jury.pack import LEVEL_LABELS
from vae.parcours.models import Parcours
from vae.people.models import Role, User

# --- access ----------------------------------------------------------------------------------


def _is_admin(user: User) -> bool:
    return Role.ADMIN in user.roles


def _sits_on(db: Session, user: User, session_id: int) -> bool:
    if Role.JURY_PRO not in user.roles:
        return False
    return (
        db.scalar(
            select(JuryMember.id).where(
                JuryMember.session_id == session_id, JuryMember.user_id == user.id
            )
        )
        is not None
    )


def _jury_session(ctx: Ctx) -> JurySession:
    """The jury professionnel session of the path, for an administrator or one of its members."""
    assert ctx.user is not None
    jury_session = ctx.db.get(JurySession, ctx.path_int("session_id"))
    if (
        jury_session is None
        or jury_session.kind != SessionKind.PROFESSIONNEL.value
        or not (_is_admin(ctx.user) or _sits_on(ctx.db, ctx.user, jury_session.id))
    ):
        raise ctx.not_found()
    return jury_session


def _convocation(ctx: Ctx) -> Convocation:
    """The convocation of the path: an administrator, or a member of its session who may see
    the candidate's parcours (never one of their own organisme)."""
    assert ctx.user is not None
    convocation = ctx.db.get(Convocation, ctx.path_int("convocation_id"))
    if convocation is None:
        raise ctx.not_found()
    if not _is_admin(ctx.user) and not (
        _sits_on(ctx.db, ctx.user, convocation.session_id)
        and parcours_visible(ctx.db, ctx.user, convocation.parcours_id) is not None
    ):
        raise ctx.not_found()
    return convocation


def _pack(ctx: Ctx) -> PackData:
    return load_pack(
        ctx.db,
        _convocation(ctx),
        presentation_minutes=ctx.settings.interview_presentation_minutes,
        now=ctx.now,
    )


# --- one convocation -------------------------------------------------------------------------


@view(Action.VIEW_PARCOURS)
def pack_page(ctx: Ctx) -> Response:
    data = _pack(ctx)
    return render(
        ctx.request,
        "pack/pack.html",
        {
            "data": data,
            "title": TITLE,
            "rubrics": RUBRIC_HEADINGS,
            "levels": LEVEL_LABELS,
            "verdict_names": VERDICT_NAMES,
        },
    )


@view(Action.VIEW_PARCOURS)
def pack_pdf(ctx: Ctx) -> Response:
    from portal.pdf.pack import pack_pdf as render_pdf

    data = _pack(ctx)
    pdf = render_pdf(data, annex_dir=ctx.settings.data_dir / "annexes")
    convocation_id, parcours_id = data.convocation.id, data.parcours.id
    candidate_id, session_id = data.candidate.id, data.jury_session.id
    edition = data.submission.edition if data.submission is not None else None
    name = pack_batch.file_name(data.convocation)
    ctx.db.rollback()  # a read until here: write the audit entry in a fresh transaction
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="jury.pack_download",
        object_type="convocation",
        object_id=convocation_id,
        subject_id=candidate_id,
        now=ctx.now,
        details={"session": session_id, "parcours": parcours_id, "livret_edition": edition},
    )
    ctx.db.commit()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- a whole session -------------------------------------------------------------------------


def _visible_convocations(ctx: Ctx, jury_session: JurySession) -> list[Convocation]:
    assert ctx.user is not None
    query = (
        select(Convocation)
        .join(Parcours, Parcours.id == Convocation.parcours_id)
        .where(Convocation.session_id == jury_session.id)
        .options(selectinload(Convocation.parcours).selectinload(Parcours.candidate))
        .order_by(Convocation.at, Convocation.id)
    )
    if not _is_admin(ctx.user):
        query = query.where(parcours_clause(ctx.user))
    return list(ctx.db.scalars(query))


def _all_visible(ctx: Ctx, jury_session: JurySession) -> bool:
    """A member gets the zip only when every candidate of the session is visible to them (the
    composition rules make it so; checked again since the zip holds every candidate)."""
    assert ctx.user is not None
    if _is_admin(ctx.user):
        return True
    return len(_visible_convocations(ctx, jury_session)) == len(jury_session.convocations)


def _session_context(ctx: Ctx, jury_session: JurySession) -> dict[str, object]:
    batch = pack_batch.latest_batch(ctx.db, jury_session.id)
    return {
        "jury_session": jury_session,
        "session_day": long_date(jury_session.day),
        "convocations": [(c, paris_time(c.at)) for c in _visible_convocations(ctx, jury_session)],
        "batch": batch,
        "stale": batch is not None and pack_batch.is_stale(batch, ctx.now),
        "archive": pack_batch.latest_archive(ctx.db, jury_session.id),
        "BatchStatus": BatchStatus,
    }


@view(Action.VIEW_PARCOURS)
def session_packs(ctx: Ctx) -> Response:
    """GET: the session's packs and the batch's progress (the fragment alone for htmx polls);
    POST: start preparing every pack (303 to the page, or the fragment for htmx)."""
    jury_session = _jury_session(ctx)
    if ctx.request.method == "POST":
        batch, started = pack_batch.start_batch(
            session=ctx.db, actor=ctx.actor, jury_session=jury_session, now=ctx.now
        )
        batch_id = batch.id
        ctx.db.commit()
        if started:
            read, write = _job_sessions(ctx.request)
            _launch(functools.partial(pack_batch.run_batch, read, write, batch_id, ctx.settings))
        if not ctx.htmx:
            return redirect(f"/jury/sessions/{jury_session.id}/dossiers")
    template = "pack/_progress.html" if ctx.htmx else "pack/session.html"
    return render(ctx.request, template, _session_context(ctx, jury_session))


@view(Action.VIEW_PARCOURS)
def session_zip(ctx: Ctx) -> Response:
    jury_session = _jury_session(ctx)
    archive = pack_batch.latest_archive(ctx.db, jury_session.id)
    if archive is None or not archive.archive or not _all_visible(ctx, jury_session):
        raise ctx.not_found()
    path = pack_batch.packs_folder(ctx.settings) / archive.archive
    if not path.is_file():
        raise ctx.not_found()
    session_id, batch_id, day = jury_session.id, archive.id, jury_session.day
    ctx.db.rollback()
    record(
        session=ctx.db,
        actor=ctx.actor,
        action="jury.packs_download",
        object_type="jury_session",
        object_id=session_id,
        now=ctx.now,
        details={"batch": batch_id},
    )
    ctx.db.commit()
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"dossiers-entretien-session-{session_id}-{day.isoformat()}.zip",
        headers={"X-Content-Type-Options": "nosniff"},
    )


# --- background work (replaced by tests to run inline on their connection) ------------------


def _job_sessions(request: Request) -> tuple[pack_batch.SessionFactory, pack_batch.SessionFactory]:
    engine = request.app.state.engine
    return make_session_factory(engine), make_session_factory(writer(engine))


def _launch(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="interview-packs", daemon=True).start()


routes: list[BaseRoute] = [
    Route(
        "/jury/convocations/{convocation_id:int}/dossier",
        pack_page,
        methods=["GET"],
        name="jury_pack",
    ),
    Route(
        "/jury/convocations/{convocation_id:int}/dossier.pdf",
        pack_pdf,
        methods=["GET"],
        name="jury_pack_pdf",
    ),
    Route(
        "/jury/sessions/{session_id:int}/dossiers",
        session_packs,
        methods=["GET", "POST"],
        name="jury_session_packs",
    ),
    Route(
        "/jury/sessions/{session_id:int}/dossiers.zip",
        session_zip,
        methods=["GET"],
        name="jury_session_packs_zip",
    ),
]
