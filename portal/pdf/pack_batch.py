"""Every candidate's interview pack for a whole jury session, as one zip.

``build_session_packs`` renders the packs one after the other into
``DATA_DIR/packs/<name>.zip`` (written under a temporary name, renamed once complete) and
reports progress through a callback: the CLI draws a bar with it, the web batch a heartbeat.

The web batch (``start_batch`` then ``run_batch``) runs in a background thread of the server
process that received the POST. Its state is a ``PackBatch`` row, never process memory: any
process behind the load balancer answers the progress poll and serves the zip (``DATA_DIR`` is
shared, as for the annexes). A thread is enough here: a session is at most a few dozen
candidates, under a second each. A batch whose heartbeat stops (its process ended) is shown as
interrupted after ``STALE_AFTER`` and may be started again.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.pdf.pack import pack_pdf
from portal.pdf.pack_data import load_pack
from portal.pdf.pack_models import BatchStatus, PackBatch
from portal.settings import Settings
from vae.audit.service import Actor, record
from vae.jury.models import Convocation, JurySession
from vae.orm import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, candidate just built)
SessionFactory = Callable[[], Session]
STALE_AFTER = timedelta(minutes=5)
INTERRUPTED = "Préparation interrompue (le serveur qui la menait s'est arrêté) : relancez-la."
FAILED = "La préparation a échoué ; l'incident est journalisé. Relancez-la."


def packs_folder(settings: Settings) -> Path:
    return settings.data_dir / "packs"


def file_name(convocation: Convocation) -> str:
    """A portable file name: the candidate and the convocation id."""
    candidate = convocation.parcours.candidate
    name = _slug(f"{candidate.last_name} {candidate.first_name}") or "candidat"
    return f"dossier-entretien-{name}-{convocation.id}.pdf"


def member_name(index: int, convocation: Convocation) -> str:
    """The file's name inside the zip, prefixed with the order of passage."""
    return f"{index:02d}-{file_name(convocation)}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def build_session_packs(
    session: Session,
    jury_session: JurySession,
    settings: Settings,
    progress: Progress | None = None,
    *,
    archive_name: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Render the pack of every candidate convened to ``jury_session`` into one zip (one PDF
    per candidate, in order of passage); returns the zip's path."""
    now = now or utcnow()
    convocations = sorted(jury_session.convocations, key=lambda c: (c.at, c.id))
    folder = packs_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / (archive_name or f"session-{jury_session.id}-{now:%Y%m%d-%H%M%S}.zip")
    partial = final.with_name(f".{final.name}.part")
    total = len(convocations)
    if progress is not None:
        progress(0, total, "")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for index, convocation in enumerate(convocations, start=1):
                data = load_pack(
                    session,
                    convocation,
                    presentation_minutes=settings.interview_presentation_minutes,
                    now=now,
                )
                pdf = pack_pdf(data, annex_dir=settings.data_dir / "annexes")
                archive.writestr(member_name(index, convocation), pdf)
                if progress is not None:
                    progress(index, total, data.candidate.full_name)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return final


# --- the web batch ---------------------------------------------------------------------------


def latest_batch(session: Session, session_id: int) -> PackBatch | None:
    return session.scalar(
        select(PackBatch)
        .where(PackBatch.session_id == session_id)
        .order_by(PackBatch.id.desc())
        .limit(1)
    )


def latest_archive(session: Session, session_id: int) -> PackBatch | None:
    return session.scalar(
        select(PackBatch)
        .where(PackBatch.session_id == session_id, PackBatch.status == BatchStatus.DONE.value)
        .order_by(PackBatch.id.desc())
        .limit(1)
    )


def is_stale(batch: PackBatch, now: datetime) -> bool:
    return batch.status == BatchStatus.RUNNING.value and now - batch.updated_at > STALE_AFTER


def start_batch(
    *, session: Session, actor: Actor, jury_session: JurySession, now: datetime
) -> tuple[PackBatch, bool]:
    """A new running batch, or the one already running (``False``: nothing to launch)."""
    # Concurrent starts for one session queue on the session's row (PostgreSQL; on SQLite write
    # transactions are serialised already), so at most one batch runs per session.
    session.execute(
        select(JurySession.id).where(JurySession.id == jury_session.id).with_for_update()
    )
    current = latest_batch(session, jury_session.id)
    if current is not None and current.status == BatchStatus.RUNNING.value:
        if not is_stale(current, now):
            return current, False
        current.status, current.error, current.finished_at = (
            BatchStatus.FAILED.value,
            INTERRUPTED,
            now,
        )
    total = session.scalar(
        select(func.count())
        .select_from(Convocation)
        .where(Convocation.session_id == jury_session.id)
    )
    batch = PackBatch(
        session_id=jury_session.id,
        status=BatchStatus.RUNNING.value,
        total=total or 0,
        done=0,
        started_by_id=actor.user_id,
        started_at=now,
        updated_at=now,
        archive="",
        error="",
    )
    session.add(batch)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="jury.packs_build",
        object_type="jury_session",
        object_id=jury_session.id,
        now=now,
        details={"batch": batch.id, "candidates": batch.total},
    )
    return batch, True


class Superseded(Exception):
    """The batch row is no longer running (declared interrupted and started again)."""


def run_batch(
    read: SessionFactory, write: SessionFactory, batch_id: int, settings: Settings
) -> None:
    """Build the zip of a batch started by ``start_batch``; progress and outcome go to its row.
    Never raises: a failure is logged and recorded on the row."""
    try:
        with read() as session:
            batch = session.get(PackBatch, batch_id)
            if batch is None or batch.status != BatchStatus.RUNNING.value:
                return
            jury_session = session.get(JurySession, batch.session_id)
            assert jury_session is not None
            path = build_session_packs(
                session,
                jury_session,
                settings,
                progress=lambda done, total, _: _heartbeat(write, batch_id, done, total),
                archive_name=f"session-{jury_session.id}-lot-{batch_id}.zip",
            )
            session.commit()  # a read: ends its transaction (tests share one connection)
        _finish(write, batch_id, path, settings)
    except Superseded:
        log.info("pack batch %s superseded", batch_id)
    except Exception:
        log.exception("pack batch %s failed", batch_id)
        _set(write, batch_id, status=BatchStatus.FAILED.value, error=FAILED, finished_at=utcnow())


def _heartbeat(write: SessionFactory, batch_id: int, done: int, total: int) -> None:
    if not _set(write, batch_id, done=done, total=total):
        raise Superseded


def _set(write: SessionFactory, batch_id: int, **values: object) -> bool:
    """Update a running batch's row in its own short transaction; False when not running."""
    with write() as session:
        result = session.execute(
            update(PackBatch)
            .where(PackBatch.id == batch_id, PackBatch.status == BatchStatus.RUNNING.value)
            .values(updated_at=utcnow(), **values)
        )
        session.commit()
        return bool(getattr(result, "rowcount", 0))


def _finish(write: SessionFactory, batch_id: int, path: Path, settings: Settings) -> None:
    now = utcnow()
    if not _set(write, batch_id, status=BatchStatus.DONE.value, archive=path.name, finished_at=now):
        path.unlink(missing_ok=True)
        raise Superseded
    with write() as session:  # earlier zips of the session are outdated: remove their files
        batch = session.get(PackBatch, batch_id)
        assert batch is not None
        older = session.scalars(
            select(PackBatch).where(
                PackBatch.session_id == batch.session_id,
                PackBatch.id < batch_id,
                PackBatch.archive != "",
            )
        ).all()
        for row in older:
            (packs_folder(settings) / row.archive).unlink(missing_ok=True)
            row.archive = ""
        session.commit()
