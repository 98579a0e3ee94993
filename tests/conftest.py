"""Shared fixtures: a database built by the Alembic migrations, one per test run.

TEST_DATABASE_URL selects the engine: ``sqlite`` (default: a fresh file in a temporary folder)
or a PostgreSQL URL (a fresh database is created next to it and dropped at the end). Each test
runs in a transaction that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.app import create_app
from portal.db import make_engine
from portal.migrate import upgrade
from portal.settings import Settings, load_settings, normalise_database_url
from vae.referentiel import loader
from vae.referentiel.model import Referentiel
from vae.referentiel.service import load_version


def _test_database_url(tmp_dir: Path) -> tuple[str, str | None]:
    """(url of the test database, admin url to drop it afterwards or None)."""
    raw = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if raw == "sqlite":
        return f"sqlite:///{tmp_dir / 'test.sqlite3'}", None
    url = make_url(normalise_database_url(raw))
    name = f"vae_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), url.render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, admin_url = _test_database_url(tmp_path_factory.mktemp("db"))
    yield url
    if admin_url is not None:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = make_url(url).database
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def referentiel() -> Referentiel:
    return loader.load()


@pytest.fixture(scope="session")
def engine(database_url: str, referentiel: Referentiel) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        load_version(session=session, referentiel=referentiel)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _session_on(connection: Connection) -> Session:
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    session = _session_on(connection)
    yield session
    session.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def app(settings: Settings, engine: Engine, connection: Connection):  # type: ignore[no-untyped-def]
    return create_app(settings, engine=engine, session_factory=lambda: _session_on(connection))


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as client:
        yield client
