"""The RGPD right of access: ``/compte/mes-donnees`` explains what is included (GET) and sends
the signed-in person's data as a zip (POST, ``portal.export_zip``); every export is audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from portal.export_zip import Export
from portal.permissions import Action
from portal.templating import render
from portal.web import Ctx, view
from vae.audit.service import record
from vae.decision.models import Certificate
from vae.parcours.models import Parcours

PARIS = ZoneInfo("Europe/Paris")
CHUNK = 64 * 1024


def _page(ctx: Ctx) -> Response:
    assert ctx.user is not None
    user_id = ctx.user.id
    count = func.count()
    parcours = ctx.db.scalar(select(count).where(Parcours.candidate_id == user_id))
    certificates = ctx.db.scalar(select(count).where(Certificate.holder_id == user_id))
    context = {
        "parcours_count": parcours or 0,
        "certificate_count": certificates or 0,
        "retention_months": ctx.settings.retention_months,
    }
    return render(ctx.request, "rgpd/my_data.html", context)


def _read_transaction(ctx: Ctx) -> None:
    """End the sign-in transaction, then read without the SQLite write lock (a POST session
    begins IMMEDIATE transactions): building the archive takes a few seconds."""
    ctx.db.commit()
    bind = ctx.db.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        ctx.db.connection(execution_options={"sqlite_begin": "DEFERRED"})


def _chunks(archive: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := archive.read(CHUNK):
            yield chunk
    finally:
        archive.close()


@view(Action.SIGNED_IN)
def my_data(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return _page(ctx)
    assert ctx.user is not None
    user_id = ctx.user.id
    _read_transaction(ctx)
    export = Export(ctx.db, ctx.user, ctx.settings, ctx.now)
    archive = export.build()
    try:
        size = archive.seek(0, 2)
        archive.seek(0)
        ctx.db.rollback()
        record(
            session=ctx.db,
            actor=ctx.actor,
            action="rgpd.export",
            object_type="account",
            object_id=user_id,
            subject_id=user_id,
            now=ctx.now,
            details={**dict(sorted(export.counts.items())), "bytes": size},
        )
        ctx.db.commit()
    except BaseException:
        archive.close()
        raise
    day = ctx.now.astimezone(PARIS).date().isoformat()
    return StreamingResponse(
        _chunks(archive),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="mes-donnees-cqp-{day}.zip"',
            "Content-Length": str(size),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


routes: list[BaseRoute] = [
    Route("/compte/mes-donnees", my_data, methods=["GET", "POST"], name="account_data"),
]
