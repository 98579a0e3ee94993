"""Backup and restore: every record and file back, the audit chain intact, damage refused.

Runs on the engine of the suite (TEST_DATABASE_URL): fresh databases are made next to the test
database, filled with the demo data set through the services, and dropped at the end.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.backup import BackupError, backup, restore
from portal.db import make_engine
from portal.demo import create_demo
from portal.migrate import upgrade
from portal.settings import load_settings
from tests.conftest import _test_database_url
from vae.audit.service import verify
from vae.referentiel import loader
from vae.referentiel.service import load_version

FreshEngine = Callable[[], Engine]


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[FreshEngine]:
    made: list[tuple[Engine, str | None, str]] = []

    def make() -> Engine:
        folder = tmp_path / f"db{len(made)}"
        folder.mkdir()
        url, admin_url = _test_database_url(folder)
        engine = make_engine(url)
        made.append((engine, admin_url, url))
        return engine

    yield make
    for engine, admin_url, url in made:
        engine.dispose()
        if admin_url is not None:
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                name = make_url(url).database
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _filled(engine: Engine, data_dir: Path) -> None:
    upgrade(engine)
    with Session(engine) as session, session.begin():
        load_version(session=session, referentiel=loader.load())
        settings = load_settings({"DATABASE_URL": str(engine.url), "DATA_DIR": str(data_dir)})
        create_demo(session=session, settings=settings)
    for folder, name, content in (
        ("annexes", "ab/ab12.pdf", b"%PDF-1.7 annexe"),
        ("certificates", "c1.pdf", b"%PDF-1.7 certificat"),
        ("pv", "pv-1.pdf", b"%PDF-1.7 pv"),
        ("keys", "seal-test.pem", b"-----BEGIN PRIVATE KEY-----"),
    ):
        path = data_dir / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (data_dir / "packs").mkdir()
    (data_dir / "packs" / "session-1.zip").write_bytes(b"made again from the database")


def _contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order."""
    found: dict[str, list[tuple[object, ...]]] = {}
    inspector = inspect(engine)
    with engine.connect() as connection:
        for name in sorted(inspector.get_table_names()):
            keys = inspector.get_pk_constraint(name)["constrained_columns"] or [
                c["name"] for c in inspector.get_columns(name)
            ]
            order = ", ".join(f'"{k}"' for k in keys)
            rows = connection.execute(text(f'SELECT * FROM "{name}" ORDER BY {order}'))  # noqa: S608
            found[name] = [tuple(row) for row in rows]
    return found


def test_backup_then_restore_into_an_empty_instance(
    fresh_engine: FreshEngine, tmp_path: Path
) -> None:
    source, source_data = fresh_engine(), tmp_path / "source-data"
    _filled(source, source_data)
    archive = tmp_path / "backup.tar"
    made = backup(engine=source, data_dir=source_data, archive=archive)
    assert made.files == 4 and made.rows > 300
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert "data/packs/session-1.zip" not in names  # made again from the database
    assert {m["path"] for m in manifest["members"]} == names - {"manifest.json"}

    target, target_data = fresh_engine(), tmp_path / "target-data"
    restored = restore(engine=target, data_dir=target_data, archive=archive)
    assert restored.tables == made.tables and restored.files == 4
    assert _contents(target) == _contents(source)
    for folder in ("annexes", "certificates", "pv", "keys"):
        for path in (source_data / folder).rglob("*"):
            if path.is_file():
                twin = target_data / path.relative_to(source_data)
                assert twin.read_bytes() == path.read_bytes()
    assert (target_data / "keys" / "seal-test.pem").stat().st_mode & 0o777 == 0o600
    with Session(target) as session:
        result = verify(session)
    assert result.ok and result.checked == made.tables["audit_entries"]


def test_restore_refuses_a_damaged_archive_or_a_used_instance(
    fresh_engine: FreshEngine, tmp_path: Path
) -> None:
    source, source_data = fresh_engine(), tmp_path / "source-data"
    _filled(source, source_data)
    archive = tmp_path / "backup.tar"
    backup(engine=source, data_dir=source_data, archive=archive)
    with pytest.raises(BackupError, match="already exists"):
        backup(engine=source, data_dir=source_data, archive=archive)

    with pytest.raises(BackupError, match="not empty"):
        restore(engine=source, data_dir=tmp_path / "empty", archive=archive)

    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as tar, tarfile.open(damaged, "w") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "data/certificates/c1.pdf":
                data = data.replace(b"certificat", b"certifiXat")
            out.addfile(member, fileobj=io.BytesIO(data))
    target, target_data = fresh_engine(), tmp_path / "target-data"
    with pytest.raises(BackupError, match="c1.pdf does not match its hash"):
        restore(engine=target, data_dir=target_data, archive=damaged)
    assert inspect(target).get_table_names() == []  # nothing written
    assert not target_data.exists()

    not_tar = tmp_path / "not.tar"
    not_tar.write_bytes(b"hello")
    with pytest.raises(BackupError, match="not a readable backup archive"):
        restore(engine=target, data_dir=target_data, archive=not_tar)
