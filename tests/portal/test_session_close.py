"""A session closed after the database went away (restart, pg_terminate_backend) must not raise:
the response is already sent, so the error would only be an unhandled ASGI exception. Its
connection is invalidated (dropped from the pool) instead, and the next session works."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portal.db import make_engine, make_session_factory


def test_close_survives_a_rollback_on_a_dead_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'close.sqlite3'}")
    factory = make_session_factory(engine)
    try:
        session = factory()
        session.execute(text("SELECT 1"))  # a transaction is open: close() will roll it back

        def dead(_connection: Any) -> None:
            raise sqlite3.OperationalError("terminating connection due to administrator command")

        monkeypatch.setattr(engine.dialect, "do_rollback", dead)
        session.close()  # raised sqlalchemy.exc.OperationalError before the fix
        monkeypatch.undo()
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        with factory() as again:
            assert again.execute(text("SELECT 2")).scalar_one() == 2
    finally:
        engine.dispose()


def test_close_still_raises_other_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'close.sqlite3'}")
    session = make_session_factory(engine)()
    try:
        session.execute(text("SELECT 1"))

        def broken(_connection: Any) -> None:
            raise RuntimeError("a bug, not the database")

        monkeypatch.setattr(engine.dialect, "do_rollback", broken)
        with pytest.raises(RuntimeError):
            session.close()
    finally:
        monkeypatch.undo()
        engine.dispose()
