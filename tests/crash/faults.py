"""Helpers of the load-with-faults test: a server restarted on the same port, clients that keep
going through connection errors and 503 answers (counting every outcome), readers, and the
two ways of making the database unavailable without touching anybody else's data."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.settings import normalise_database_url
from tests.browser.server import REPO_ROOT, _env, _free_port, _wait_until_healthy
from tests.crash.server import Server
from tests.crash.stream import Attester, Autosaver, Uploader, Writer, attestation_form

UNAVAILABLE = "Service momentanément indisponible"
RETRY_PAUSE_S = 0.2  # a client's pause after a connection error or a 503, like a browser retry


class Tally:
    """Every answer the clients got, by status, plus connection errors (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.connection_errors = 0
        self.french_503 = 0
        self.bad_503: list[str] = []
        self.errors_500: list[str] = []
        self.last_503_at = 0.0

    def hook(self, response: httpx.Response) -> None:
        response.read()
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code == 503:
                self.last_503_at = time.monotonic()
                if UNAVAILABLE in response.text and response.headers.get("retry-after"):
                    self.french_503 += 1
                else:
                    self.bad_503.append(f"{response.request.url.path}: {response.text[:200]}")
            if response.status_code >= 500 and response.status_code != 503:
                self.errors_500.append(f"{response.request.method} {response.request.url.path}")

    def connection_error(self) -> None:
        with self.lock:
            self.connection_errors += 1

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.connection_errors

    @property
    def succeeded(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 400)


def watch(client: httpx.Client, tally: Tally) -> httpx.Client:
    client.event_hooks["response"] = [tally.hook]
    return client


class Resilient(Writer):
    """A writer that survives the faults: a transport error or a 503 is counted (by the tally)
    and the stream goes on; it stops only when told to."""

    tally: Tally
    conflicts: int

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self.step()
                except httpx.TransportError:
                    self.tally.connection_error()
                    self.on_lost()
                    time.sleep(RETRY_PAUSE_S)
        except Exception as error:  # reported by the test, never swallowed
            self.unexpected.append(f"{type(error).__name__}: {error}")
        finally:
            self.client.close()

    def on_lost(self) -> None:
        """A request whose answer never came: its write may or may not have happened."""

    def accepted(self, answer: httpx.Response, expected: int, what: str) -> bool:
        if answer.status_code == expected:
            return True
        if answer.status_code == 503:
            time.sleep(RETRY_PAUSE_S)
        elif answer.status_code == 409:
            self.conflicts += 1
        else:
            self.unexpected.append(f"{what} {answer.status_code}")
        return False


@dataclass
class FaultAutosaver(Resilient, Autosaver):
    tally: Tally = field(default_factory=Tally)
    conflicts: int = 0
    unacked: list[str] = field(default_factory=list)  # texts sent since the last acknowledgement
    stale: bool = False  # an answer was lost: read the lock version again before the next save

    def step(self) -> None:
        if self.stale:
            page = self.client.get(f"/livret/situations/{self.situation_id}")
            version = re.search(r'id="lock-version"[^>]*value="(\d+)"', page.text)
            if not self.accepted(page, 200, "situation page"):
                return
            if not version:
                self.unexpected.append("situation page without its lock version")
                return
            self.lock_version, self.stale = int(version.group(1)), False
        text_ = f"Autosave n°{self.sent + 1} : j'ai accueilli l'assuré. " * 20
        self.unacked.append(text_)
        self.stale = True  # until the answer says otherwise
        self.sent += 1
        answer = self.client.post(
            f"/livret/situations/{self.situation_id}/autosave",
            headers={"HX-Request": "true"},
            data={
                "csrf_token": self.token,
                "lock_version": str(self.lock_version),
                "title": f"Situation sous autosave {self.sent}",
                "actions": text_,
            },
        )
        version = re.search(r'id="lock-version" value="(\d+)"', answer.text)
        if not self.accepted(answer, 200, "autosave"):
            return
        if not version:
            self.unexpected.append("autosave answer without the new lock version")
            return
        self.lock_version, self.stale = int(version.group(1)), False
        self.acked.append((self.lock_version, text_))
        self.unacked = []


@dataclass
class FaultUploader(Resilient, Uploader):
    tally: Tally = field(default_factory=Tally)
    conflicts: int = 0

    def step(self) -> None:
        before = len(self.unexpected)
        super().step()  # Uploader.step records a non-303 as unexpected: sort them out here
        if len(self.unexpected) > before and self.unexpected[-1] == "annex 503":
            self.unexpected.pop()
            time.sleep(RETRY_PAUSE_S)


@dataclass
class FaultAttester(Resilient, Attester):
    tally: Tally = field(default_factory=Tally)
    conflicts: int = 0

    def step(self) -> None:
        key = self.competences[self.sent % len(self.competences)]
        self.sent += 1
        base = f"/parcours/{self.parcours_id}/carnet"
        form = self.client.get(f"{base}/{key}/attester")
        if not self.accepted(form, 200, "attest form"):
            return
        fields = dict(re.findall(r'name="(base_number|lock_version)" value="(\d+)"', form.text))
        observed = re.findall(r'name="observed" value="([^"]+)"', form.text)
        draft = self.client.post(
            f"{base}/{key}/attester",
            data=attestation_form(self.token, fields, observed, self.sent),
        )
        target = re.search(r"/versions/(\d+)/signer$", draft.headers.get("location", ""))
        if not self.accepted(draft, 303, "attest"):
            return
        if not target:
            self.unexpected.append("draft saved without a redirect to its signature")
            return
        self.drafts.append(int(target.group(1)))
        confirm = self.client.get(draft.headers["location"])
        digest = re.search(r'name="content_hash" value="([0-9a-f]{64})"', confirm.text)
        if not self.accepted(confirm, 200, "confirmation"):
            return
        if not digest:
            self.unexpected.append("confirmation page without the content hash")
            return
        signed = self.client.post(
            draft.headers["location"],
            data={"csrf_token": self.token, "content_hash": digest.group(1)},
        )
        if self.accepted(signed, 303, "sign"):
            self.signatures.append((int(target.group(1)), digest.group(1)))


@dataclass
class Reader(Resilient):
    """Reads a few pages in turn; anything but 200 (or a 503 during a fault) is unexpected."""

    pages: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    conflicts: int = 0

    def step(self) -> None:
        page = self.pages[self.sent % len(self.pages)]
        self.sent += 1
        self.accepted(self.client.get(page), 200, f"GET {page}")
        time.sleep(0.05)  # a person reading, and room for the writers on a 2-core machine


class FaultServer(Server):
    """The crash server, started again on the same port so that the clients keep their URL."""

    port: int = 0

    def start(self) -> None:
        self.port = self.port or _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.starts += 1
        with self.log_path.open("a") as log:
            log.write(f"\n=== start {self.starts} ===\n")
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "serve", "--host", "127.0.0.1"]
                + ["--port", str(self.port)],
                cwd=REPO_ROOT,
                env=_env(self.database_url, self.data_dir, self.base_url),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_until_healthy(self.process, self.base_url + "/healthz", self.log_path)

    def restart(self) -> float:
        """SIGTERM, then start again on the same database and DATA_DIR; the seconds it took."""
        began = time.monotonic()
        self.stop()
        assert self.process is not None and self.process.returncode is not None
        self.start()
        return time.monotonic() - began


@contextmanager
def postgres_unavailable(database_url: str) -> Iterator[None]:
    """Refuse new connections to this one database and end the ones open, without touching
    the shared PostgreSQL server; connections allowed again on leaving, whatever happens."""
    target = make_url(database_url)
    admin_url = make_url(normalise_database_url(database_url)).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = target.database
    assert name and name.startswith("vae_test_"), name  # never the shared test database
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()


@contextmanager
def sqlite_locked(database_url: str) -> Iterator[None]:
    """Hold SQLite's write lock from another connection: writers wait for the busy timeout,
    then get "database is locked"; readers (WAL) go on."""
    path = make_url(database_url).database
    assert path
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


def wait_recovered(base_url: str, within_s: float) -> float:
    """Seconds until /healthz answers 200 again (no restart); fails after ``within_s``."""
    began = time.monotonic()
    while time.monotonic() - began < within_s:
        try:
            if httpx.get(base_url + "/healthz", timeout=5).status_code == 200:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # a readiness poll
    raise AssertionError(f"the app did not recover within {within_s} s")
