"""Backup and restore: the database and the files that cannot be made again, in one archive.

The archive is a tar file holding ``manifest.json`` (format, engine, Alembic revision, the row
count of every table, and the SHA-256 and size of every member), the database (an SQLite copy made
with the online backup API, or a ``pg_dump`` custom-format dump) and, under ``data/``, the
uploaded annexes, the issued certificates, the sealed procès-verbaux and the platform's keys.
Interview packs and mail files are left out: they are made again from the database.

The database is copied first, then the files: a file is always written before the row that
names it is committed, so every row of the copy finds its file (a file written meanwhile is
merely extra). Restoring checks every hash before it writes anything, and only into an empty
instance (no table, no file), then compares the row counts with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, column, func, inspect, select, table
from sqlalchemy.engine import make_url

FORMAT = 1
FOLDERS = ("annexes", "certificates", "pv", "keys")
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """A backup or restore that cannot proceed: one line saying why."""


@dataclass
class Report:
    archive: Path
    engine: str
    revision: str
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _engine_name(engine: Engine) -> str:
    return "sqlite" if engine.dialect.name == "sqlite" else "postgresql"


def _libpq_url(engine: Engine) -> str:
    url = make_url(engine.url.render_as_string(hide_password=False))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _row_counts(engine: Engine) -> dict[str, int]:
    names = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for name in sorted(names):
            counts[name] = connection.execute(
                select(func.count()).select_from(table(name))
            ).scalar_one()
    return counts


def _revision(engine: Engine) -> str:
    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return ""
        value = connection.execute(
            select(column("version_num")).select_from(table("alembic_version"))
        ).scalar()
    return str(value or "")


def _dump_database(engine: Engine, target: Path) -> None:
    if _engine_name(engine) == "sqlite":
        source_path = make_url(str(engine.url)).database
        if not source_path:
            raise BackupError("an in-memory SQLite database cannot be backed up")
        source = sqlite3.connect(source_path)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # a consistent snapshot, writers keep going
        finally:
            copy.close()
            source.close()
        return
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _libpq_url(engine)])


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)")
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{command[0]} failed: {lines[-1] if lines else done.returncode}")


def backup(*, engine: Engine, data_dir: Path, archive: Path) -> Report:
    """Write the archive (refusing to overwrite one) and return what it holds."""
    if archive.exists():
        raise BackupError(f"{archive} already exists")
    engine_name = _engine_name(engine)
    report = Report(archive=archive, engine=engine_name, revision=_revision(engine))
    members: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vae-backup-") as work:
        dump = Path(work) / DATABASE_MEMBER[engine_name]
        report.tables = _row_counts(engine)
        _dump_database(engine, dump)
        files = [(dump, dump.name)]
        for folder in FOLDERS:
            root = data_dir / folder
            if root.is_dir():
                for path in sorted(p for p in root.rglob("*") if p.is_file()):
                    if path.name.startswith("."):
                        continue  # a temporary file being written
                    files.append((path, f"data/{path.relative_to(data_dir).as_posix()}"))
        for path, name in files:
            size = path.stat().st_size
            members.append({"path": name, "sha256": _sha256(path), "size": size})
            report.bytes += size
        report.files = len(files) - 1
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": engine_name,
            "revision": report.revision,
            "tables": report.tables,
            "members": members,
        }
        manifest_path = Path(work) / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(f".{archive.name}.partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(manifest_path, arcname="manifest.json")
            for path, name in files:
                tar.add(path, arcname=name)
        partial.replace(archive)
    return report


# --- restore -------------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile("manifest.json")
    except KeyError:
        raise BackupError("not a backup archive: manifest.json is missing") from None
    if member is None:
        raise BackupError("not a backup archive: manifest.json is not a file")
    manifest: dict[str, Any] = json.loads(member.read().decode("utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    return manifest


def _safe_name(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _check_members(tar: tarfile.TarFile, manifest: dict[str, Any], work: Path) -> None:
    """Extract every listed member into ``work`` and check its size and hash."""
    for entry in manifest["members"]:
        name = entry["path"]
        if not _safe_name(name) or not (name == name.split("/")[0] or name.startswith("data/")):
            raise BackupError(f"unexpected member name in the manifest: {name!r}")
        try:
            source = tar.extractfile(name)
        except KeyError:
            raise BackupError(f"{name} is listed in the manifest but missing") from None
        if source is None:
            raise BackupError(f"{name} is not a regular file")
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            shutil.copyfileobj(source, out)
        if target.stat().st_size != entry["size"] or _sha256(target) != entry["sha256"]:
            raise BackupError(f"{name} does not match its hash in the manifest: archive damaged")


def _check_empty(engine: Engine, data_dir: Path) -> None:
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    if tables:
        raise BackupError(
            f"the target database is not empty ({len(tables)} tables): restore "
            "into an empty database"
        )
    for folder in FOLDERS:
        root = data_dir / folder
        if root.is_dir() and any(root.iterdir()):
            raise BackupError(f"{root} is not empty: restore into an empty data folder")


def _load_database(engine: Engine, dump: Path) -> None:
    if _engine_name(engine) == "sqlite":
        target_path = make_url(str(engine.url)).database
        if not target_path:
            raise BackupError("cannot restore into an in-memory SQLite database")
        engine.dispose()
        source = sqlite3.connect(dump)
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    _run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq_url(engine), str(dump)])


def restore(*, engine: Engine, data_dir: Path, archive: Path) -> Report:
    """Restore the archive into an empty instance; every hash is checked before anything is
    written, and the row counts are compared with the manifest afterwards."""
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    _check_empty(engine, data_dir)
    engine_name = _engine_name(engine)
    with tempfile.TemporaryDirectory(prefix="vae-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(archive, "r") as tar:
                manifest = _read_manifest(tar)
                if manifest["engine"] != engine_name:
                    raise BackupError(
                        f"this backup is of a {manifest['engine']} database; the target is "
                        f"{engine_name}"
                    )
                _check_members(tar, manifest, work)
        except tarfile.TarError as error:
            raise BackupError(f"not a readable backup archive: {error}") from None
        report = Report(archive=archive, engine=engine_name, revision=manifest["revision"])
        _load_database(engine, work / DATABASE_MEMBER[engine_name])
        for entry in manifest["members"]:
            name = entry["path"]
            if not name.startswith("data/"):
                continue
            target = data_dir / name.removeprefix("data/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / name, target)
            if name.startswith("data/keys/"):
                target.chmod(0o600)
            report.files += 1
            report.bytes += entry["size"]
    report.tables = _row_counts(engine)
    expected = {k: v for k, v in manifest["tables"].items()}
    if report.tables != expected:
        differing = sorted(
            k
            for k in expected.keys() | report.tables.keys()
            if expected.get(k) != report.tables.get(k)
        )
        raise BackupError(f"restored row counts differ from the manifest: {', '.join(differing)}")
    return report
