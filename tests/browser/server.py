"""The app as a real server for the browser journeys: a fresh database, then `vae-portal serve`.

The database follows the run: a SQLite file in a temporary folder when TEST_DATABASE_URL is
``sqlite`` (or unset), a fresh ``vae_test_*`` PostgreSQL database next to TEST_DATABASE_URL
otherwise, dropped at the end. It is not the database of the other tests (which roll back
every test): the server commits, so it gets its own, prepared exactly as a person would with
the CLI (`db upgrade`, `referentiel load`, `demo`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.settings import normalise_database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90  # a cold start on a busy 2-core machine
STOP_TIMEOUT_S = 15


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database_url: str
    data_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """A database nobody else uses, dropped afterwards (PostgreSQL) or left in tmp_dir (SQLite)."""
    raw = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if raw == "sqlite":
        yield f"sqlite:///{tmp_dir / 'browser.sqlite3'}"
        return
    admin_url = make_url(normalise_database_url(raw))
    name = f"vae_test_browser_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str, data_dir: Path, base_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DEBUG", None)
    env.update(DATABASE_URL=database_url, DATA_DIR=str(data_dir), MAIL_BACKEND="file")
    if base_url:
        env["BASE_URL"] = base_url
    return env


def _cli(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`vae-portal {' '.join(args)}` failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no server log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def live_server(tmp_dir: Path) -> Iterator[LiveServer]:
    """Prepare a fresh database with the CLI, serve it on a free port, stop it at the end."""
    data_dir = tmp_dir / "data"
    log_path = tmp_dir / "server.log"
    with fresh_database(tmp_dir) as database_url:
        setup_env = _env(database_url, data_dir)
        for args in (["db", "upgrade"], ["referentiel", "load"], ["demo"]):
            _cli(args, setup_env)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "portal.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=REPO_ROOT,
                env=_env(database_url, data_dir, base_url),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_healthy(process, base_url + "/healthz", log_path)
            yield LiveServer(base_url, database_url, data_dir, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    """Poll /healthz until it answers 200; fail with the server's log if it dies or hangs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with {process.returncode} before answering {url}:\n"
                + _tail(log_path)
            )
        if _healthy(url):
            return
        time.sleep(0.2)  # a readiness poll, not a wait for something to happen in a test
    raise RuntimeError(f"{url} did not answer 200 within {START_TIMEOUT_S} s:\n" + _tail(log_path))
