"""The ``vae-portal`` command.

Every failure ends with one line on stderr saying what and where, and a non-zero exit code;
no traceback (set DEBUG=1 to get one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from portal.db import make_engine, make_session_factory, ping, writer
from portal.settings import Settings, SettingsError, load_settings
from vae.referentiel.loader import ReferentielError


class CliError(Exception):
    """A failure to report on one line."""


def _engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    try:
        ping(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CliError(
            f"database unreachable ({engine.url.render_as_string(hide_password=True)}): {reason}"
        ) from None
    return engine


def _write_session(engine: Engine) -> Session:
    return make_session_factory(writer(engine))()


def server_address(args: argparse.Namespace) -> dict[str, str]:
    """HOST and PORT as given by ``serve --host/--port``: the application reads its settings
    from the environment, where they make the default BASE_URL that of the actual server
    (links in certificates, QR codes, badges and mails). An explicit BASE_URL still wins."""
    address: dict[str, str] = {}
    if args.host:
        address["HOST"] = args.host
    if args.port:
        address["PORT"] = str(args.port)
    return address


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    # uvicorn imports portal.asgi, whose settings come from os.environ (workers inherit it)
    os.environ.update(server_address(args))
    settings = load_settings()
    _engine(settings).dispose()  # fail fast, with one line, when the database is unreachable
    uvicorn.run(
        "portal.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        log_level="info",
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from portal.migrate import upgrade

    engine = _engine(settings)
    upgrade(engine, args.revision)
    print(f"database at {args.revision}: {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_referentiel_load(args: argparse.Namespace, settings: Settings) -> int:
    from vae.referentiel import loader
    from vae.referentiel.service import load_version

    referentiel = loader.load(Path(args.path) if args.path else None)
    engine = _engine(settings)
    with _write_session(engine) as session, session.begin():
        version, created = load_version(session=session, referentiel=referentiel)
    certs = ", ".join(
        f"{c.short} {len(c.blocs)} blocs / {sum(len(b.bloc.competences) for b in c.blocs)} "
        f"compétences / {sum(b.bloc.criteria_count for b in c.blocs)} critères"
        for c in referentiel.certifications
    )
    state = "loaded" if created else "already loaded, unchanged"
    print(f"référentiel {version.version} {state}: {certs}")
    return 0


def cmd_referentiel_export(args: argparse.Namespace, settings: Settings) -> int:
    from vae.referentiel import loader
    from vae.referentiel.service import export, get_referentiel

    if args.from_files:
        referentiel = loader.load(Path(args.from_files) if args.from_files != "-" else None)
    else:
        engine = _engine(settings)
        with make_session_factory(engine)() as session:
            loaded = get_referentiel(session)
        if loaded is None:
            raise CliError("no référentiel in the database: run `vae-portal referentiel load`")
        referentiel = loaded
    text = json.dumps(export(referentiel), ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from portal.demo import DEMO_PASSWORD, create_demo, demo_logins

    engine = _engine(settings)
    with _write_session(engine) as session, session.begin():
        try:
            report = create_demo(session=session, settings=settings)
        except RuntimeError as exc:
            raise CliError(str(exc)) from None
    print(f"demo data: {report.created} created, {report.existing} already there")
    print(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for email, label in demo_logins():
        print(f"  {email:<42} {label}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from vae.audit.service import verify

    engine = _engine(settings)
    with make_session_factory(engine)() as session:
        result = verify(session)
    if result.ok:
        print(f"audit chain intact: {result.checked} entries verified")
        return 0
    print(
        f"audit chain BROKEN at entry #{result.broken_seq}: {result.reason} "
        f"({result.checked} entries verified before it)",
        file=sys.stderr,
    )
    return 3


def cmd_jury_packs(args: argparse.Namespace, settings: Settings) -> int:
    """Every convened candidate's interview pack of a session, as one zip, with a progress bar.
    Built in a read transaction (no write lock held meanwhile); the audit entry after."""
    from portal.pdf.pack_batch import build_session_packs
    from vae.audit.service import Actor, record
    from vae.jury.models import JurySession, SessionKind

    engine = _engine(settings)
    with make_session_factory(engine)() as session:
        jury_session = session.get(JurySession, args.session_id)
        if jury_session is None or jury_session.kind != SessionKind.PROFESSIONNEL.value:
            raise CliError(f"no jury professionnel session #{args.session_id}")
        path = build_session_packs(session, jury_session, settings, progress=_progress_bar)
        count = len(jury_session.convocations)
    with _write_session(engine) as session, session.begin():
        record(
            session=session,
            actor=Actor.system("vae-portal jury packs"),
            action="jury.packs_build",
            object_type="jury_session",
            object_id=args.session_id,
            details={"archive": path.name, "candidates": count},
        )
    print(f"{count} interview pack(s) in {path}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    import portal.models  # noqa: F401 - every table known to the audit entry's relationships
    from portal.backup import BackupError, backup
    from vae.audit.service import Actor, record

    engine = _engine(settings)
    try:
        report = backup(engine=engine, data_dir=settings.data_dir, archive=Path(args.archive))
    except BackupError as error:
        raise CliError(str(error)) from None
    with _write_session(engine) as session, session.begin():
        record(
            session=session,
            actor=Actor.system("vae-portal backup"),
            action="backup.create",
            object_type="backup",
            object_id=report.archive.name,
            details={"rows": report.rows, "files": report.files, "bytes": report.bytes},
        )
    print(
        f"backup written to {report.archive}: {report.rows} rows in {len(report.tables)} tables, "
        f"{report.files} files ({report.bytes} bytes), revision {report.revision}"
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    import portal.models  # noqa: F401 - every table known to the audit entry's relationships
    from portal.backup import BackupError, restore
    from vae.audit.service import Actor, record, verify

    engine = _engine(settings)
    try:
        report = restore(engine=engine, data_dir=settings.data_dir, archive=Path(args.archive))
    except BackupError as error:
        raise CliError(str(error)) from None
    with _write_session(engine) as session, session.begin():
        chain = verify(session)
        if not chain.ok:
            raise CliError(f"restored, but the audit chain is broken at #{chain.broken_seq}")
        record(
            session=session,
            actor=Actor.system("vae-portal restore"),
            action="backup.restore",
            object_type="backup",
            object_id=report.archive.name,
            details={"rows": report.rows, "files": report.files},
        )
    print(
        f"restored {report.rows} rows in {len(report.tables)} tables and {report.files} files "
        f"from {report.archive}; audit chain intact ({chain.checked} entries)"
    )
    return 0


def _retention_day(raw: str | None) -> date:
    if raw is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CliError(f"--now {raw!r} is not a date (YYYY-MM-DD)") from None


def _interview_packs(settings: Settings) -> Callable[[Session, Sequence[int]], list[Path]]:
    """The stored interview-pack archives of the sessions a parcours was convened to: they
    copy its livret and annexes (they are made again on demand)."""
    from sqlalchemy import select

    from portal.pdf.pack_batch import packs_folder
    from portal.pdf.pack_models import PackBatch
    from vae.jury.models import Convocation

    def archives(session: Session, parcours_ids: Sequence[int]) -> list[Path]:
        names = session.scalars(
            select(PackBatch.archive)
            .join(Convocation, Convocation.session_id == PackBatch.session_id)
            .where(Convocation.parcours_id.in_(parcours_ids), PackBatch.archive != "")
        )
        return [packs_folder(settings) / Path(name).name for name in sorted(set(names))]

    return archives


def cmd_retention_apply(args: argparse.Namespace, settings: Settings) -> int:
    import portal.models  # noqa: F401 - every table known to the audit entry's relationships
    from vae.audit.service import Actor
    from vae.retention import apply

    today = _retention_day(args.now)
    engine = _engine(settings)
    with _write_session(engine) as session:
        report = apply(
            session=session,
            data_dir=settings.data_dir,
            now=today,
            months=settings.retention_months,
            dry_run=args.dry_run,
            actor=Actor.system("vae-portal retention apply"),
            derived_files=_interview_packs(settings),
        )
    verb = "would be anonymised (dry run, nothing changed)" if args.dry_run else "anonymised"
    ids = ", ".join(f"#{d.parcours_id} (ended {d.reference})" for d in report.parcours)
    print(
        f"retention {settings.retention_months} months as of {today}: "
        f"{len(report.parcours)} parcours {verb}{': ' + ids if ids else ''}"
    )
    for table_name, count in sorted(report.rows.items()):
        print(f"  {table_name}: {count} row(s)")
    deleted = "to delete" if args.dry_run else "deleted"
    print(f"  files {deleted}: {report.files} ({report.bytes} bytes freed)")
    return 0


def cmd_annexes_sweep(args: argparse.Namespace, settings: Settings) -> int:
    import portal.models  # noqa: F401 - every table known
    from vae.livret.annexes import annex_folder, sweep_orphans
    from vae.orm import utcnow

    engine = _engine(settings)
    with make_session_factory(engine)() as session:
        removed = sweep_orphans(
            session, annex_folder(settings.data_dir), now=utcnow(), dry_run=args.dry_run
        )
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(removed)} orphan file(s) from {annex_folder(settings.data_dir)}")
    for name in removed:
        print(f"  {name}")
    return 0


def _progress_bar(done: int, total: int, name: str) -> None:
    width = 30
    filled = width * done // total if total else width
    line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name}"[:100]
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r{line:<100}", end=end, file=sys.stderr, flush=True)
    elif done:
        print(line, file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vae-portal", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web application (uvicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    up = db.add_parser("upgrade", help="apply the Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    ref = sub.add_parser("referentiel", help="the official référentiel")
    ref_sub = ref.add_subparsers(dest="referentiel", required=True)
    load = ref_sub.add_parser("load", help="validate and load a version (idempotent)")
    load.add_argument("--path", help="a version folder (default: the latest shipped one)")
    load.set_defaults(func=cmd_referentiel_load)
    exp = ref_sub.add_parser("export", help="export the current version")
    exp.add_argument("--format", choices=["json"], default="json")
    exp.add_argument("--output", "-o", help="write to this file instead of stdout")
    exp.add_argument(
        "--from-files",
        nargs="?",
        const="-",
        help="export the data files (a version folder, default the latest) instead of the database",
    )
    exp.set_defaults(func=cmd_referentiel_export)

    demo = sub.add_parser("demo", help="create the demo data set (idempotent)")
    demo.set_defaults(func=cmd_demo)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit", required=True)
    verify = audit.add_parser("verify", help="walk the hash chain; non-zero exit when broken")
    verify.set_defaults(func=cmd_audit_verify)

    annexes = sub.add_parser("annexes", help="uploaded annexes").add_subparsers(
        dest="annexes", required=True
    )
    sweep = annexes.add_parser(
        "sweep", help="remove files left by an interrupted write (no row names them)"
    )
    sweep.add_argument("--dry-run", action="store_true")
    sweep.set_defaults(func=cmd_annexes_sweep)

    save = sub.add_parser("backup", help="database and files in one archive, with hashes")
    save.add_argument("archive", metavar="ARCHIVE", help="the archive to write (a .tar file)")
    save.set_defaults(func=cmd_backup)
    back = sub.add_parser("restore", help="restore an archive into an empty instance")
    back.add_argument("archive", metavar="ARCHIVE")
    back.set_defaults(func=cmd_restore)

    retention = sub.add_parser("retention", help="retention of the livret and carnet content")
    retention_sub = retention.add_subparsers(dest="retention", required=True)
    anonymise = retention_sub.add_parser(
        "apply", help="anonymise the parcours past RETENTION_MONTHS (audited)"
    )
    anonymise.add_argument("--dry-run", action="store_true", help="report, change nothing")
    anonymise.add_argument("--now", metavar="YYYY-MM-DD", help="the day to count from (today)")
    anonymise.set_defaults(func=cmd_retention_apply)

    jury = sub.add_parser("jury", help="jury sessions").add_subparsers(dest="jury", required=True)
    packs = jury.add_parser("packs", help="every candidate's interview pack of a session (zip)")
    packs.add_argument("session_id", type=int, metavar="SESSION_ID")
    packs.set_defaults(func=cmd_jury_packs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = load_settings()
        return func(args, settings)
    except (CliError, SettingsError, ReferentielError) as exc:
        print(f"vae-portal: error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        if os.environ.get("DEBUG"):
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"vae-portal: database error: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
