"""Render a full carnet PDF and time it.

Every COS competence (18) attested and signed by both the tutor and the manager with long texts,
a self-assessment for each, an earlier signed version and an unsigned draft here and there, the
three milestones. Runs on a throw-away SQLite database built like the test suite's.

    .venv/bin/python -m bench.carnet_pdf [--out /tmp/carnet.pdf] [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy.orm import Session

from carnet.queries import load_carnet
from carnet.service import save_milestone, save_self_assessment
from portal.db import make_engine
from portal.migrate import upgrade
from portal.pdf.carnet import carnet_pdf
from tests.portal.test_carnet_pdf import NOW, as_actor, attest, checks_for, hand_over
from tests.portal.world import build_world
from vae.parcours.models import Parcours
from vae.referentiel import loader
from vae.referentiel.models import CompetenceRecord
from vae.referentiel.service import load_version

SITUATION = (
    "Appel d'une assurée inquiète pour le versement de ses indemnités journalières après un "
    "arrêt prolongé ; reformulation de la demande, vérification du dossier, explication des "
    "délais et des pièces manquantes, proposition d'un rendez-vous en agence. "
)
COMMENT = "Très bonne maîtrise de l'écoute active ; reste à gagner en concision. « Œuvre » ✓ "


def fill(session: Session) -> Parcours:
    world = build_world(session)
    parcours, candidate = world.own, world.people["candidat"]
    tutor, manager = world.people["tuteur"], world.people["manager"]
    hand_over(session, parcours)
    data = load_carnet(session, parcours)
    for index, (_, competence) in enumerate(data.certification.competences()):
        key = competence.key
        save_self_assessment(
            session=session,
            actor=as_actor(candidate),
            user=candidate,
            parcours=parcours,
            competence=session.get(CompetenceRecord, data.competence_ids[key]),
            level=("maitrisee", "en_cours", "a_acquerir")[index % 3],
            comment=f"Mon ressenti sur {competence.number} : " + COMMENT * 3,
            lock_version=0,
            now=NOW,
        )
        if index % 4 == 0:  # an earlier signed version, corrected since
            attest(session, data, tutor, key, verdict="en_cours", observed=1)
        attest(session, data, tutor, key, description=SITUATION * 6, comment=COMMENT * 8)
        attest(
            session,
            data,
            manager,
            key,
            observed=None if index % 5 else 1,
            description=SITUATION * 4,
            comment=COMMENT * 5,
        )
        if index % 6 == 0:
            attest(session, data, manager, key, signed=False, description="Brouillon.")
    for kind, day in (
        ("positionnement", "2026-09-10"),
        ("mi_parcours", "2026-10-01"),
        ("bilan_final", "2026-10-14"),
    ):
        save_milestone(
            session=session,
            actor=as_actor(tutor),
            user=tutor,
            parcours=parcours,
            kind=kind,
            day=day,
            participant_ids=[candidate.id, tutor.id, manager.id],
            other_participants="Mme Référente RH",
            notes=SITUATION * 3,
            lock_version=0,
            now=NOW,
        )
    return parcours


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "carnet.pdf")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
        upgrade(engine)
        with Session(engine) as session:
            load_version(session=session, referentiel=loader.load())
            parcours = fill(session)
            session.commit()
            started = time.perf_counter()
            data = load_carnet(session, parcours)
            checks = checks_for(session, data)
            loaded = time.perf_counter() - started
            generated_at = datetime.now(UTC)
            timings, cpu = [], []
            for _ in range(args.runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                pdf = carnet_pdf(data, generated_at=generated_at, signature_checks=checks)
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
        engine.dispose()
    args.out.write_bytes(pdf)
    print(f"{args.out}: {len(pdf) / 1024:.0f} KiB, {len(checks)} signed versions checked")
    print(f"load_carnet + check_signature: {loaded * 1000:.0f} ms")
    print(
        f"carnet_pdf over {args.runs} runs: "
        + ", ".join(f"{t * 1000:.0f}" for t in timings)
        + f" ms (median {statistics.median(timings) * 1000:.0f} ms, "
        f"CPU median {statistics.median(cpu) * 1000:.0f} ms)"
    )
    print(f"{pages(pdf)} pages")


if __name__ == "__main__":
    main()
