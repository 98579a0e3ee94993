"""Retention: the livret and carnet content of a parcours is anonymised once its retention
period is over (``RETENTION_MONTHS``, 12 by default, after the end of the parcours).

The end of a parcours is its ``end_date``; a parcours closed without one ends with its last
certificate or proclamation. The selection rule (``reference_date``, ``is_due``) is pure. What
is anonymised is described in ``vae.retention_content``; certificates (rows, holder names,
sealed PDFs) and the results stay, so every certificate remains verifiable.

A parcours is anonymised once: the run writes an audit entry ``retention.anonymise`` for it
(object ``parcours``/id), which later runs read to skip it (no schema change needed). Each
parcours is changed and audited in its own transaction; its annex files are deleted after the
commit (a row never names a file that is gone), with the interview packs that copied them.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vae.anonymisation import marker
from vae.audit.models import AuditEntry
from vae.audit.service import Actor, record
from vae.decision.models import Certificate, NationalDossier, Proclamation
from vae.livret.annexes import annex_folder, annex_path
from vae.parcours.models import Parcours, ParcoursStatus
from vae.retention_content import anonymise_parcours

ACTION = "retention.anonymise"
RUN_ACTION = "retention.apply"

# extra files made from a parcours' content elsewhere (the portal's interview packs)
DerivedFiles = Callable[[Session, Sequence[int]], list[Path]]


# --- the rule (pure) -----------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def reference_date(
    *,
    end_date: date | None,
    closed: bool,
    last_certificate: date | None,
    last_proclamation: date | None,
) -> date | None:
    """When the parcours ended, for retention; None while it has not ended."""
    if end_date is not None:
        return end_date
    if not closed:
        return None
    known = [d for d in (last_certificate, last_proclamation) if d is not None]
    return max(known) if known else None


def is_due(reference: date | None, *, now: date, months: int) -> bool:
    """More than ``months`` months have passed since ``reference`` (on the anniversary day
    itself, not yet)."""
    return reference is not None and add_months(reference, months) < now


# --- selection ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Due:
    parcours_id: int
    candidate_id: int
    reference: date


def anonymised_ids(session: Session) -> set[int]:
    rows = session.scalars(
        select(AuditEntry.object_id).where(
            AuditEntry.action == ACTION, AuditEntry.object_type == "parcours"
        )
    )
    return {int(value) for value in rows if value.isdigit()}


def select_due(session: Session, *, now: date, months: int) -> list[Due]:
    """The parcours past their retention period and not anonymised yet, oldest first."""
    certificates = dict(
        session.execute(
            select(Certificate.parcours_id, func.max(Certificate.issued_on)).group_by(
                Certificate.parcours_id
            )
        ).all()
    )
    proclamations: dict[int, date] = {}
    for parcours_id, moment in session.execute(
        select(NationalDossier.parcours_id, Proclamation.proclaimed_at).join(
            Proclamation, Proclamation.session_id == NationalDossier.session_id
        )
    ):
        day = moment.date()
        proclamations[parcours_id] = max(day, proclamations.get(parcours_id, day))
    done = anonymised_ids(session)
    found = []
    for parcours_id, candidate_id, end_date, status in session.execute(
        select(Parcours.id, Parcours.candidate_id, Parcours.end_date, Parcours.status)
    ):
        reference = reference_date(
            end_date=end_date,
            closed=status == ParcoursStatus.CLOSED.value,
            last_certificate=certificates.get(parcours_id),
            last_proclamation=proclamations.get(parcours_id),
        )
        if parcours_id not in done and is_due(reference, now=now, months=months):
            assert reference is not None
            found.append(Due(parcours_id, candidate_id, reference))
    return sorted(found, key=lambda d: (d.reference, d.parcours_id))


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Report:
    now: date
    months: int
    dry_run: bool
    parcours: list[Due] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    files: int = 0
    bytes: int = 0


def _annex_paths(folder: Path, stored_names: list[str]) -> list[Path]:
    paths = []
    for name in stored_names:
        try:
            paths.append(annex_path(folder, name))
        except ValueError:
            continue  # not a name we generated: nothing of ours to delete
    return paths


def _existing(paths: list[Path]) -> list[tuple[Path, int]]:
    found = []
    for path in paths:
        try:
            found.append((path, path.stat().st_size))
        except OSError:
            continue  # already gone
    return found


def apply(
    *,
    session: Session,
    data_dir: Path,
    now: date,
    months: int,
    dry_run: bool,
    actor: Actor,
    derived_files: DerivedFiles | None = None,
) -> Report:
    """Anonymise every parcours due (``dry_run``: only count what would change, write
    nothing). Commits once per parcours."""
    report = Report(now=now, months=months, dry_run=dry_run)
    mark = marker(now)
    folder = annex_folder(data_dir)
    counted: set[Path] = set()  # an interview pack may hold several parcours
    for due in select_due(session, now=now, months=months):
        changes = anonymise_parcours(session, due.parcours_id, mark, apply=not dry_run)
        paths = _annex_paths(folder, changes.files)
        paths += derived_files(session, [due.parcours_id]) if derived_files else []
        files = _existing([p for p in dict.fromkeys(paths) if p not in counted])
        counted.update(path for path, _ in files)
        report.parcours.append(due)
        report.rows.update(changes.rows)
        report.files += len(files)
        report.bytes += sum(size for _, size in files)
        if dry_run:
            continue
        record(
            session=session,
            actor=actor,
            action=ACTION,
            object_type="parcours",
            object_id=due.parcours_id,
            subject_id=due.candidate_id,
            details={
                "reference_date": due.reference.isoformat(),
                "months": months,
                "as_of": now.isoformat(),
                "rows": dict(sorted(changes.rows.items())),
                "files": [path.name for path, _ in files],
                "bytes": sum(size for _, size in files),
            },
        )
        session.commit()
        for path, _ in files:
            path.unlink(missing_ok=True)
    if not dry_run and report.parcours:
        record(
            session=session,
            actor=actor,
            action=RUN_ACTION,
            object_type="retention",
            object_id=now.isoformat(),
            details={
                "months": months,
                "parcours": [d.parcours_id for d in report.parcours],
                "rows": dict(sorted(report.rows.items())),
                "files": report.files,
                "bytes": report.bytes,
            },
        )
        session.commit()
    return report
