"""SIGKILL in the middle of a stream of writes: every acknowledged write survives, nothing is
half-written, the audit chain still verifies.

The real server (`vae-portal serve`, fresh database + demo data, SQLite or the PostgreSQL of
TEST_DATABASE_URL) takes three streams at once: a candidate's livret autosaves (increasing
lock_version), the same candidate's annex uploads, and their tutor's carnet attestations
(draft, confirmation, signature). At a random moment (seeded: CRASH_SEED) the server gets
SIGKILL; it is started again on the same database and DATA_DIR and the test checks the rows
and files against what the clients were told."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import make_engine
from tests.browser.server import fresh_database
from tests.crash.checks import acknowledged_writes_found
from tests.crash.server import Server
from tests.crash.stream import Attester, Autosaver, Uploader, Writer, signed_in
from vae.livret.annexes import annex_folder
from vae.livret.models import Livret, Situation
from vae.referentiel import loader

SEED = int(os.environ.get("CRASH_SEED", "20261122"))
KILL_AFTER_S = (1.5, 4.0)  # the kill lands somewhere in this window after the streams start


def _subjects(database_url: str) -> tuple[int, str, str, str, list[str]]:
    """A draft livret of the demo: (parcours id, candidate, tutor, bloc, competence keys)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            livret = db.scalars(
                select(Livret).where(Livret.status == "brouillon").order_by(Livret.id)
            ).first()
            assert livret is not None and livret.parcours.tutor is not None
            parcours = livret.parcours
            certification = loader.load().certification(parcours.certification.code)
            held = set(parcours.held_bloc_keys)
            blocs = [b for b in certification.blocs if b.key not in held]
            keys = [c.key for b in blocs for c in b.bloc.competences]
            return parcours.id, parcours.candidate.email, parcours.tutor.email, blocs[0].key, keys

    finally:
        engine.dispose()


def _new_situation(server: Server, email: str, parcours_id: int, bloc: str) -> int:
    client, token = signed_in(server.base_url, email)
    try:
        client.get(f"/parcours/{parcours_id}/livret")
        answer = client.post(
            f"/parcours/{parcours_id}/livret/situations", data={"csrf_token": token, "bloc": bloc}
        )
        assert answer.status_code == 303, answer.text[:1000]
        return int(answer.headers["location"].rsplit("/", 1)[1])
    finally:
        client.close()


def _stream_then_kill(server: Server, writers: list[Writer], stop: threading.Event) -> float:
    threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    delay = random.Random(SEED).uniform(*KILL_AFTER_S)
    time.sleep(delay)  # the kill must land mid-stream, at a seeded moment: this is the point
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return delay


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as database_url:
        server = Server(database_url, tmp_path / "data", tmp_path / "server.log")
        server.prepare()
        parcours_id, candidate, tutor, bloc, competences = _subjects(database_url)
        server.start()
        try:
            situation_id = _new_situation(server, candidate, parcours_id, bloc)
            stop = threading.Event()
            autosaver = Autosaver(
                *signed_in(server.base_url, candidate), stop, situation_id=situation_id
            )
            uploader = Uploader(
                *signed_in(server.base_url, candidate), stop, situation_id=situation_id
            )
            attester = Attester(
                *signed_in(server.base_url, tutor),
                stop,
                parcours_id=parcours_id,
                competences=competences,
            )
            writers: list[Writer] = [autosaver, uploader, attester]
            delay = _stream_then_kill(server, writers, stop)
            server.start()  # same database, same DATA_DIR
            report = _check(server, database_url, situation_id, autosaver, uploader, attester)
            _served_after_restart(server, candidate, situation_id)
            server.cli("audit", "verify")  # exits non-zero when the chain is broken
        finally:
            server.stop()
    for writer in writers:
        assert not writer.unexpected, (type(writer).__name__, writer.unexpected)
        assert writer.error, f"{type(writer).__name__} was not cut by the kill"
    print(f"\nSIGKILL after {delay:.2f} s (seed {SEED}): {report}")


def _served_after_restart(server: Server, candidate: str, situation_id: int) -> None:
    """The restarted app serves the saved text and takes the next autosave."""
    client, token = signed_in(server.base_url, candidate)
    try:
        page = client.get(f"/livret/situations/{situation_id}")
        assert page.status_code == 200 and "Autosave n°" in page.text
        version = re.search(r'id="lock-version"[^>]*value="(\d+)"', page.text)
        assert version, page.text[:1000]
        answer = client.post(
            f"/livret/situations/{situation_id}/autosave",
            headers={"HX-Request": "true"},
            data={"csrf_token": token, "lock_version": version.group(1), "actions": "Reprise."},
        )
        assert answer.status_code == 200, answer.text[:1000]
    finally:
        client.close()


def _check(
    server: Server,
    database_url: str,
    situation_id: int,
    autosaver: Autosaver,
    uploader: Uploader,
    attester: Attester,
) -> str:
    assert autosaver.acked and uploader.acked and attester.signatures, "kill came too early"
    folder = annex_folder(server.data_dir)
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            # the autosave: the last acknowledged text, or the one in flight if it committed
            situation = db.get(Situation, situation_id)
            assert situation is not None
            last_version, last_text = autosaver.acked[-1]
            assert situation.lock_version >= last_version
            if situation.lock_version == last_version:
                assert situation.actions == last_text
            else:
                assert situation.lock_version == last_version + 1
                assert situation.actions in autosaver.in_flight
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
    # at most the one upload in flight at the kill: its file written, its row never committed
    assert len(orphans) <= 1, orphans
    signed = sum(1 for v in versions.values() if v.signed_at is not None)
    return (
        f"autosaves acknowledged {len(autosaver.acked)}/{autosaver.sent} sent, found "
        f"v{situation.lock_version} (last acknowledged v{last_version}); "
        f"attestation drafts acknowledged {len(attester.drafts)}, signatures acknowledged "
        f"{len(attester.signatures)}, found {len(set(attester.drafts) & set(versions))} drafts "
        f"and {len([s for s in attester.signatures if s[0] in versions])} signatures "
        f"({signed} signed versions in the database); annexes acknowledged "
        f"{len(uploader.acked)}/{uploader.sent} sent, found {len(set(uploader.acked) & stored)} "
        f"({len(annexes)} rows); orphan files {len(orphans)}"
    )
