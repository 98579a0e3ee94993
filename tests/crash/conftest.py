"""The crash test serves the app for real and kills it: marked ``crash`` (``-m crash`` runs it
alone, ``-m "not crash"`` skips it); it is part of ``make test`` on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

CRASH_DIR = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "crash: kills the real server mid-stream (SIGKILL)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if CRASH_DIR in item.path.parents:
            item.add_marker(pytest.mark.crash)
