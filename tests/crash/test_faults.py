"""Load with faults: during a mixed load (readers + the crash test's writers), the app process is
restarted once (SIGTERM, start again) and the database is made unavailable once; the app answers
the French 503 page meanwhile, never a 500, recovers by itself, and loses no acknowledged write.

PostgreSQL: the server's own fresh database refuses connections and its sessions are ended
(``ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``) for OUTAGE_S, without restarting the
shared server. SQLite: another connection holds the write lock (``BEGIN EXCLUSIVE``) longer than
the busy timeout, so the writes waiting on it get "database is locked" → 503; reads go on (WAL).
FAULT_SECONDS (default 60) sets the length of the load."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.db import SQLITE_BUSY_TIMEOUT_MS, make_engine
from tests.browser.server import fresh_database
from tests.crash.checks import acknowledged_writes_found
from tests.crash.faults import (
    FaultAttester,
    FaultAutosaver,
    FaultServer,
    FaultUploader,
    Reader,
    Resilient,
    Tally,
    postgres_unavailable,
    sqlite_locked,
    wait_recovered,
    watch,
)
from tests.crash.stream import signed_in
from tests.crash.test_sigkill import _new_situation, _subjects
from vae.livret.annexes import annex_folder
from vae.livret.models import Situation

FAULT_SECONDS = float(os.environ.get("FAULT_SECONDS", "60"))
OUTAGE_S = 3.0  # PostgreSQL: how long the database refuses connections
LOCK_S = SQLITE_BUSY_TIMEOUT_MS / 1000 + 1.5  # SQLite: longer than one write's busy timeout
RECOVERY_S = 10.0  # after the fault, the app must answer again within this, by itself


def test_load_with_restart_and_database_outage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fresh_database(tmp_path) as database_url:
        server = FaultServer(database_url, tmp_path / "data", tmp_path / "server.log")
        server.prepare()
        parcours_id, candidate, tutor, bloc, competences = _subjects(database_url)
        server.start()
        tally = Tally()
        try:
            situation_id = _new_situation(server, candidate, parcours_id, bloc)
            subjects = (candidate, tutor, parcours_id, situation_id, competences)
            clients = _clients(server, tally, *subjects)
            autosaver, uploader, attester, readers, stop = clients
            everyone: list[Resilient] = [autosaver, uploader, attester, *readers]
            figures = _load(server, database_url, tally, everyone, stop)
            report = _check(server, database_url, situation_id, autosaver, uploader, attester)
            server.cli("audit", "verify")  # exits non-zero when the chain is broken
        finally:
            server.stop()
            log = server.log_path.read_text(errors="replace")
    assert not tally.errors_500, (tally.errors_500, log[-5000:])
    unhandled = [line for line in log.splitlines() if "Exception in ASGI application" in line]
    assert not unhandled, log[-5000:]  # e.g. a session close failing after the response
    assert not tally.bad_503, tally.bad_503
    for client in everyone:
        assert not client.unexpected, (type(client).__name__, client.unexpected)
    with capsys.disabled():
        print(
            f"\nLoad with faults, {make_url(database_url).get_backend_name()}, "
            f"{FAULT_SECONDS:.0f} s: requests sent {tally.sent}, 2xx/3xx {tally.succeeded}, "
            f"503 {tally.statuses[503]} (French page {tally.french_503}), "
            f"connection errors {tally.connection_errors}, 500 {len(tally.errors_500)}, "
            f"409 {tally.statuses[409]}; statuses {dict(sorted(tally.statuses.items()))}; "
            f"{figures}; {report}"
        )


def _clients(
    server: FaultServer,
    tally: Tally,
    candidate: str,
    tutor: str,
    parcours: int,
    situation: int,
    competences: list[str],
) -> tuple[FaultAutosaver, FaultUploader, FaultAttester, list[Reader], threading.Event]:
    """Three writers (the crash test's streams) and two readers, each with its own browser."""
    stop = threading.Event()

    def browser(email: str) -> tuple[httpx.Client, str]:
        client, token = signed_in(server.base_url, email)
        return watch(client, tally), token

    autosaver = FaultAutosaver(*browser(candidate), stop, situation_id=situation, tally=tally)
    uploader = FaultUploader(*browser(candidate), stop, situation_id=situation, tally=tally)
    attester = FaultAttester(
        *browser(tutor), stop, parcours_id=parcours, competences=competences, tally=tally
    )
    candidate_pages = ["/compte", f"/parcours/{parcours}/livret", f"/livret/situations/{situation}"]
    tutor_pages = ["/compte", f"/parcours/{parcours}/carnet"]
    readers = [
        Reader(*browser(candidate), stop, pages=candidate_pages, tally=tally),
        Reader(*browser(tutor), stop, pages=tutor_pages, tally=tally),
    ]
    return autosaver, uploader, attester, readers, stop


def _outage(database_url: str) -> tuple[str, float, Callable[[], AbstractContextManager[None]]]:
    if make_url(database_url).get_backend_name() == "sqlite":
        return "SQLite write lock held", LOCK_S, lambda: sqlite_locked(database_url)
    return (
        "PostgreSQL database refusing connections",
        OUTAGE_S,
        lambda: postgres_unavailable(database_url),
    )


def _load(
    server: FaultServer,
    database_url: str,
    tally: Tally,
    clients: list[Resilient],
    stop: threading.Event,
) -> str:
    """Run the load for FAULT_SECONDS: the restart at 25 %, the outage at 55 %."""
    threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(FAULT_SECONDS * 0.25)  # the faults land at fixed points of the load: the point
    restart_s = server.restart()
    time.sleep(max(0.0, began + FAULT_SECONDS * 0.55 - time.monotonic()))
    what, hold_s, fault = _outage(database_url)
    before_503 = tally.statuses[503]
    with fault():
        time.sleep(hold_s)
    during_503 = tally.statuses[503] - before_503
    recovered_s = wait_recovered(server.base_url, RECOVERY_S)
    settle = time.monotonic() + RECOVERY_S
    while time.monotonic() < settle and time.monotonic() - tally.last_503_at < 2:
        time.sleep(0.1)  # requests must stop getting 503 by themselves
    assert time.monotonic() - tally.last_503_at >= 2, "still answering 503 after the outage"
    time.sleep(max(0.0, began + FAULT_SECONDS - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert during_503 > 0 and tally.french_503 > 0, "no 503 during the outage"
    assert server.starts == 2 and server.process is not None and server.process.poll() is None
    return (
        f"restart took {restart_s:.1f} s; {what} for {hold_s:.1f} s: {during_503} answers 503, "
        f"healthy again {recovered_s:.1f} s after, no restart"
    )


def _check(
    server: FaultServer,
    database_url: str,
    situation_id: int,
    autosaver: FaultAutosaver,
    uploader: FaultUploader,
    attester: FaultAttester,
) -> str:
    """Every acknowledged write is there, each annex row with its file, no orphan file."""
    assert autosaver.acked and uploader.acked and attester.signatures, "nothing acknowledged"
    folder = annex_folder(server.data_dir)
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            situation = db.get(Situation, situation_id)
            assert situation is not None
            last_version, last_text = autosaver.acked[-1]
            if situation.lock_version == last_version:
                assert situation.actions == last_text
            else:  # later saves whose answer was lost (restart, outage) may have committed
                assert situation.lock_version > last_version
                assert situation.actions in autosaver.unacked
            found = acknowledged_writes_found(db, folder, situation_id, attester, uploader)
            versions, annexes, stored, names = (
                found.versions,
                found.annexes,
                found.stored,
                found.names,
            )
    finally:
        engine.dispose()
    orphans = sorted(p.name for p in folder.iterdir() if p.name not in names)
    assert not orphans, orphans  # SIGTERM drains, a failed commit removes its file
    signed = [s for s in attester.signatures if versions[s[0]].signed_at is not None]
    return (
        f"autosaves acknowledged {len(autosaver.acked)}/{autosaver.sent} sent, found "
        f"v{situation.lock_version} (last acknowledged v{last_version}); signatures "
        f"acknowledged {len(attester.signatures)}, found {len(signed)} (drafts acknowledged "
        f"{len(set(attester.drafts))}, found {len(set(attester.drafts) & set(versions))}); annexes "
        f"acknowledged {len(uploader.acked)}/{uploader.sent} sent, found "
        f"{len(set(uploader.acked) & stored)} ({len(annexes)} rows); orphan files 0; "
        f"autosave/attestation conflicts after a lost answer "
        f"{autosaver.conflicts + attester.conflicts}"
    )
