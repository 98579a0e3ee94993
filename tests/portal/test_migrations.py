"""Migrations are the only way a schema is made: they must match the models and go both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal.db import make_engine
from portal.migrate import downgrade, upgrade
from portal.models import metadata


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_and_up_again(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        scratch = make_engine(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")
    else:
        name = f"{url.database}_rt"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        scratch = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(scratch)
        assert "criteria" in inspect(scratch).get_table_names()
        downgrade(scratch, "base")
        assert set(inspect(scratch).get_table_names()) <= {"alembic_version"}
        upgrade(scratch)
        assert "audit_entries" in inspect(scratch).get_table_names()
    finally:
        scratch.dispose()
        if url.get_backend_name() != "sqlite":
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    engine.dispose()
