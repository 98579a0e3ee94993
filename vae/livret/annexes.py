"""Annexes of the livret 2: anonymised PDFs attached to a situation.

A file is checked in full first (``vae.livret.pdfcheck``), then written under a generated name
(uuid4 hex + ``.pdf``) in the annex folder (``DATA_DIR/annexes``, outside anything served),
atomically: temporary file in the same folder, fsync, ``os.replace``. Only then is the row
committed; if the commit fails, the file is removed. A refused file leaves nothing behind.
Deleting removes the row, then the file, unless a submitted edition of the livret still
lists it (a frozen edition keeps its annexes).

``add_annex`` and ``delete_annex`` commit: the file and the row go together.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.livret.models import Annex, Livret, LivretSubmission, Situation
from vae.livret.pdfcheck import (
    MAX_FILE_BYTES,
    MAX_PAGES,
    AnnexRefused,
    PdfFacts,
    check_envelope,
    check_pdf,
    check_size,
    clean_filename,
    format_size,
)
from vae.livret.service import Frozen, NotAllowed
from vae.people.models import Role, User
from vae.storage import write_atomically

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LIVRET_BYTES",
    "MAX_PAGES",
    "AnnexRefused",
    "PdfFacts",
    "add_annex",
    "annex_folder",
    "annex_path",
    "check_pdf",
    "check_size",
    "clean_filename",
    "delete_annex",
    "discard_files",
    "format_size",
    "livret_annex_bytes",
    "precheck_annex",
]

MAX_LIVRET_BYTES = 50 * 1024 * 1024  # all the annexes of one livret ("50 Mo")
FOLDER_NAME = "annexes"
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.pdf$")


def annex_folder(data_dir: Path) -> Path:
    return data_dir / FOLDER_NAME


def annex_path(folder: Path, stored_name: str) -> Path:
    """Where a stored annex lives; a stored name is only ever one we generated."""
    if not _STORED_NAME.match(stored_name):
        raise ValueError(f"not a generated annex name: {stored_name!r}")
    return folder / stored_name


def livret_annex_bytes(session: Session, livret_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Annex.size), 0))
        .join(Situation, Situation.id == Annex.situation_id)
        .where(Situation.livret_id == livret_id)
    )
    return int(total or 0)


def _check_rights(user: User, livret: Livret) -> None:
    """Only the candidate writes, and only while the livret is a draft."""
    if livret.parcours.candidate_id != user.id or not user.has_role(Role.CANDIDAT):
        raise NotAllowed
    if not livret.editable:
        raise Frozen


def _check_writer(session: Session, user: User, situation: Situation) -> Livret:
    """``_check_rights`` on the livret row, locked (PostgreSQL) so that two uploads cannot both
    pass the 50 Mo cap or race a submission."""
    livret = session.scalars(
        select(Livret)
        .where(Livret.id == situation.livret_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    _check_rights(user, livret)
    return livret


def _check_livret_room(session: Session, livret: Livret, size: int) -> None:
    used = livret_annex_bytes(session, livret.id)
    if used + size > MAX_LIVRET_BYTES:
        left = max(0, MAX_LIVRET_BYTES - used)
        raise AnnexRefused(
            "Les annexes d'un livret ne peuvent dépasser 50 Mo au total : il reste "
            f"{format_size(left) if left else '0 Ko'} pour ce fichier de {format_size(size)}. "
            "Retirez une annexe ou allégez ce fichier.",
            code="livret_full",
        )


def precheck_annex(*, session: Session, user: User, situation: Situation, data: bytes) -> None:
    """The cheap checks, to run before the full parse: the candidate, a draft livret, size and
    magic bytes, room left in the livret. Raises like ``add_annex``."""
    _check_rights(user, situation.livret)
    check_envelope(data)
    _check_livret_room(session, situation.livret, len(data))


def add_annex(
    *,
    session: Session,
    actor: Actor,
    user: User,
    situation: Situation,
    data: bytes,
    filename: str,
    folder: Path,
    now: datetime,
    facts: PdfFacts | None = None,
) -> Annex:
    """Check, store and record an annex, and commit. Raises ``AnnexRefused`` (French reason),
    ``NotAllowed`` (someone else's situation) or ``Frozen`` (a submitted livret).

    The full parse takes up to a few seconds: a caller holding a database transaction (the
    SQLite write lock) runs ``precheck_annex`` and ``check_pdf`` outside it and passes the
    ``facts``; without them, the parse runs here, inside the caller's transaction."""
    if facts is None:
        precheck_annex(session=session, user=user, situation=situation, data=data)
        facts = check_pdf(data, filename)
    elif facts.size != len(data) or facts.sha256 != hashlib.sha256(data).hexdigest():
        raise ValueError("the facts given are not those of this file")
    livret = _check_writer(session, user, situation)
    _check_livret_room(session, livret, facts.size)
    stored_name = f"{uuid.uuid4().hex}.pdf"
    path = write_atomically(folder, stored_name, data)
    try:
        annex = Annex(
            situation_id=situation.id,
            original_name=facts.clean_name,
            stored_name=stored_name,
            size=facts.size,
            pages=facts.pages,
            sha256=facts.sha256,
            uploaded_at=now,
        )
        session.add(annex)
        session.flush()
        record(
            session=session,
            actor=actor,
            action="livret.annex_add",
            object_type="annex",
            object_id=annex.id,
            subject_id=user.id,
            now=now,
            details={
                "situation": situation.id,
                "name": facts.clean_name,
                "size": facts.size,
                "pages": facts.pages,
                "sha256": facts.sha256,
            },
        )
        session.commit()
    except BaseException:
        session.rollback()
        path.unlink(missing_ok=True)
        raise
    session.expire(situation, ["annexes"])
    return annex


def _frozen_names(livret: Livret) -> set[str]:
    """Stored names listed by the submitted editions of a livret (kept on disk for them)."""
    return {
        annex.get("stored", "")
        for submission in livret.submissions
        for situation in submission.snapshot.get("situations", [])
        for annex in situation.get("annexes", [])
    }


def discard_files(folder: Path, livret: Livret, stored_names: list[str]) -> None:
    """Remove the files of deleted annexes (after the commit), except those a submitted
    edition still lists. For callers that delete rows themselves (``delete_situation``)."""
    keep = _frozen_names(livret)
    for name in stored_names:
        if name not in keep and _STORED_NAME.match(name):
            (folder / name).unlink(missing_ok=True)


def delete_annex(
    *, session: Session, actor: Actor, user: User, annex: Annex, folder: Path, now: datetime
) -> str:
    """Delete an annex of a draft livret: the row (committed), then the file. Returns the name
    it was shown under."""
    situation = annex.situation
    livret = _check_writer(session, user, situation)
    name, stored_name = annex.original_name, annex.stored_name
    session.delete(annex)
    record(
        session=session,
        actor=actor,
        action="livret.annex_delete",
        object_type="annex",
        object_id=annex.id,
        subject_id=user.id,
        now=now,
        details={"situation": situation.id, "name": name, "sha256": annex.sha256},
    )
    session.commit()
    session.expire(situation, ["annexes"])
    discard_files(folder, livret, [stored_name])
    return name


def sweep_orphans(
    session: Session,
    folder: Path,
    *,
    now: datetime,
    grace: timedelta = timedelta(minutes=15),
    dry_run: bool = False,
) -> list[str]:
    """Remove the files no annex row and no submitted edition names, and the temporary files
    of interrupted writes, once older than ``grace`` (a write in flight is younger). A crash
    between writing a file and committing its row (or between committing a deletion and
    removing the file) leaves such a file. Returns the names removed (or to remove)."""
    if not folder.is_dir():
        return []
    known = set(session.scalars(select(Annex.stored_name)))
    for snapshot in session.scalars(select(LivretSubmission.snapshot)).yield_per(200):
        for situation in snapshot.get("situations", []):
            known.update(annex.get("stored", "") for annex in situation.get("annexes", []))
    limit = now.timestamp() - grace.total_seconds()
    removed = []
    for path in sorted(folder.iterdir()):
        temporary = path.name.startswith(".partial-") and path.name.endswith(".tmp")
        orphan = _STORED_NAME.match(path.name) is not None and path.name not in known
        if path.is_file() and (temporary or orphan) and path.stat().st_mtime < limit:
            removed.append(path.name)
            if not dry_run:
                path.unlink(missing_ok=True)
    return removed
