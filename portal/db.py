"""Engine and session factory for SQLite (default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000

log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin) so transactions behave as on
    # PostgreSQL; pysqlite's own implicit transaction handling is switched off.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Readers use a deferred BEGIN (WAL lets them run alongside a writer). Write sessions are
    # bound to ``writer(engine)``: IMMEDIATE takes the write lock up front, so concurrent
    # writers queue on busy_timeout instead of failing on a lock upgrade.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: Engine) -> Engine:
    """The engine to bind a session that will write (IMMEDIATE transactions on SQLite)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(sqlite_begin="IMMEDIATE")


class ClosingSession(Session):
    """A session whose ``close`` survives a dead connection.

    Closing rolls back the open transaction; when the database went away meanwhile (restart,
    ``pg_terminate_backend``), that ROLLBACK fails although there is nothing left to undo. The
    response has already been sent by then, so the error would only surface as an unhandled
    ASGI exception, and the connection would stay checked out of the pool: it is invalidated
    and given back instead (the pool opens a fresh one when needed)."""

    def close(self) -> None:
        # the connections the transaction holds, to invalidate them if closing fails (once
        # close() has failed the session no longer lists them, so invalidate() cannot reach them)
        transaction = self._transaction
        held = [entry[0] for entry in transaction._connections.values()] if transaction else []
        try:
            super().close()
        except (OperationalError, InterfaceError) as error:
            log.warning("database connection lost while closing a session: %s", error)
            for connection in held:
                if not connection.closed:
                    connection.invalidate()
                    connection.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=ClosingSession, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
