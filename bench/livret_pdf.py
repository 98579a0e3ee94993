"""Render a full livret 2 PDF and time it.

The four COS blocs with two situations each, every situation about three pages long (six
rubrics of several paragraphs), career and trainings filled in, 20 pages of annexes over ten
files, submitted (frozen edition, sworn statement). Runs on a throw-away SQLite database built
like the test suite's.

    .venv/bin/python -m bench.livret_pdf [--out /tmp/livret.pdf] [--runs 5] [--draft]
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

from portal.db import make_engine
from portal.migrate import upgrade
from portal.pdf.livret import livret_pdf
from tests.portal.test_livret_pdf import (
    NOW,
    as_actor,
    attach,
    certification_of,
    fill_profile,
    write_situation,
)
from tests.portal.world import build_world
from vae.livret.models import Livret, LivretSubmission
from vae.livret.service import get_or_open, submit
from vae.referentiel import loader
from vae.referentiel.service import load_version

PARAGRAPH = (
    "Une assurée se présente à l'accueil, inquiète : ses indemnités journalières ne sont plus "
    "versées depuis deux mois et elle craint de ne pas pouvoir payer son loyer. Je l'ai reçue "
    "dans un espace confidentiel, j'ai reformulé sa demande, vérifié son dossier et constaté "
    "qu'un avis d'arrêt de travail manquait ; j'ai expliqué la démarche, les délais et "
    "l'accompagnement possible par le service social, en restant attentive à son état. "
)
TITLES = (
    "Accueil d'une assurée en rupture de droits",
    "Rappel sortant après une réclamation écrite",
    "Contrôle d'un dossier d'indemnités journalières",
    "Signalement d'une anomalie de traitement",
    "Présentation de l'offre « Mon espace santé » à un employeur",
    "Atelier collectif sur la complémentaire santé solidaire",
    "Fiabilisation des données d'un portefeuille de dossiers",
    "Tutorat d'une nouvelle collègue : œuvre commune et bilan",
)


def rubric(index: int) -> str:
    """About 1,500 characters in three paragraphs: six of them make about three pages."""
    return "\n\n".join(f"{n + 1}. " + PARAGRAPH * (1 + (index + n) % 2) for n in range(3))


def fill(session: Session, folder: Path) -> tuple[Livret, LivretSubmission]:
    world = build_world(session)
    candidate = world.people["candidat"]
    livret = get_or_open(session, world.own)
    certification = certification_of(session, world.own)
    fill_profile(session, livret, candidate)
    annex_number = 0
    for index, title in enumerate(TITLES):
        key = certification.bloc_keys[index // 2]
        situation = write_situation(
            session, livret, certification, candidate, key, title=title, rubric=rubric(index)
        )
        for _ in range(2 if index in (1, 6) else 1):  # 10 files of 2 pages: 20 pages
            annex_number += 1
            attach(session, folder, situation, f"piece-{annex_number:02d}-anonymisee.pdf", 2)
    submission = submit(
        session=session,
        actor=as_actor(candidate),
        user=candidate,
        livret=livret,
        certification=certification,
        sworn=True,
        now=NOW,
    )
    return livret, submission


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "livret.pdf")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--draft", action="store_true", help="render the working copy instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
        upgrade(engine)
        with Session(engine) as session:
            load_version(session=session, referentiel=loader.load())
            livret, submission = fill(session, folder / "annexes")
            session.commit()
            parcours = livret.parcours
            certification = certification_of(session, parcours)
            generated_at = datetime.now(UTC)
            timings, cpu = [], []
            for _ in range(args.runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                pdf = livret_pdf(
                    livret=livret,
                    certification=certification,
                    candidate=parcours.candidate,
                    employer=parcours.employer,
                    annex_dir=folder / "annexes",
                    submission=None if args.draft else submission,
                    generated_at=generated_at,
                )
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
        engine.dispose()
    args.out.write_bytes(pdf)
    annexes = sum(len(s.get("annexes", [])) for s in submission.snapshot["situations"])
    print(f"{args.out}: {len(pdf) / 1024:.0f} KiB, {page_count(pdf)} pages, {annexes} annexes")
    print(
        f"livret_pdf over {args.runs} runs: "
        + ", ".join(f"{t * 1000:.0f}" for t in timings)
        + f" ms (median {statistics.median(timings) * 1000:.0f} ms, "
        f"CPU median {statistics.median(cpu) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
