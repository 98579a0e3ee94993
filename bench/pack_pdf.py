"""Build interview packs and time them: one candidate, then a whole session.

Each candidate follows the COS VAE route with a full livret 2 (the four blocs with two
situations each, about three pages per situation, ten annexes of two pages: 20 pages), submitted,
and a carnet where tutor and manager attested half of the competences. The session convenes 30
such candidates. Runs on a throw-away SQLite database built like the test suite's.

    .venv/bin/python -m bench.pack_pdf [--out /tmp/pack.pdf] [--runs 5] [--candidates 30]

Targets (issue 7): one pack ≤ 300 ms, a session of 30 candidates ≤ 15 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.livret_pdf import TITLES, page_count, rubric
from carnet.queries import load_carnet
from portal.db import make_engine
from portal.migrate import upgrade
from portal.pdf.pack import pack_pdf
from portal.pdf.pack_batch import build_session_packs
from portal.pdf.pack_data import load_pack
from portal.settings import load_settings
from tests.portal.test_carnet_pdf import attest
from tests.portal.test_livret_pdf import (
    NOW,
    as_actor,
    attach,
    certification_of,
    fill_profile,
    write_situation,
)
from tests.portal.world import World, build_world
from vae.audit.service import Actor
from vae.jury.models import Convocation, JurySession, SessionKind
from vae.jury.service import assign_member, convene, plan_session
from vae.livret.service import get_or_open, submit
from vae.parcours.models import Parcours, Route
from vae.parcours.service import open_parcours
from vae.people.models import Branche, Civility, OrganisationKind, OrganisationType, Role, User
from vae.people.service import create_organisation, create_user
from vae.referentiel import loader
from vae.referentiel.models import CertificationRecord
from vae.referentiel.service import load_version

SYSTEM = Actor.system("bench")
DAY = date(2027, 2, 9)
TRAINED = date(2026, 3, 1)


def candidate_parcours(session: Session, world: World, number: int) -> Parcours:
    if number == 0:
        return world.own
    candidate = create_user(
        session=session,
        actor=SYSTEM,
        email=f"candidat{number}@bench.fr",
        civility=Civility.MME if number % 2 else Civility.M,
        first_name=f"Prénom{number}",
        last_name=f"Candidat{number:02d}",
        organisation=world.cpam,
        roles={Role.CANDIDAT},
    )
    cos = session.scalars(select(CertificationRecord).where(CertificationRecord.short == "COS"))
    return open_parcours(
        session=session,
        actor=SYSTEM,
        candidate=candidate,
        certification=cos.one(),
        route=Route.VAE,
        employer=world.cpam,
        tutor=world.people["tuteur"],
        manager=world.people["manager"],
        start_date=date(2026, 9, 1),
    )


def fill(session: Session, parcours: Parcours, folder: Path) -> None:
    """A full livret, submitted; half of the competences attested by tutor and manager."""
    candidate = parcours.candidate
    livret = get_or_open(session, parcours)
    certification = certification_of(session, parcours)
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
    submit(
        session=session,
        actor=as_actor(candidate),
        user=candidate,
        livret=livret,
        certification=certification,
        sworn=True,
        now=NOW,
    )
    data = load_carnet(session, parcours)
    for number, (_, competence) in enumerate(certification.competences()):
        if number % 2 == 0:
            attest(session, data, parcours.tutor, competence.key)  # type: ignore[arg-type]
            attest(session, data, parcours.manager, competence.key)  # type: ignore[arg-type]


def jury(session: Session, world: World) -> JurySession:
    jury_session = plan_session(
        session=session,
        actor=SYSTEM,
        kind=SessionKind.PROFESSIONNEL,
        day=DAY,
        place="Ucanss, Montreuil",
        capacity=60,
        months=(2, 4, 6, 10, 12),
        exam_days=15,
    )
    president = world.people["jury_pro"]
    president.jury_training_date = TRAINED
    expert = create_user(
        session=session,
        actor=SYSTEM,
        email="expert@bench.fr",
        civility=Civility.M,
        first_name="Karim",
        last_name="Expert",
        organisation=create_organisation(
            session=session,
            actor=SYSTEM,
            name="CPAM du Nord",
            kind=OrganisationKind.ORGANISME,
            type=OrganisationType.CPAM,
            branche=Branche.MALADIE,
        ),
        roles={Role.JURY_PRO},
        jury_training_date=TRAINED,
    )
    for user, quality in ((president, "president"), (expert, "expert")):
        assign_member(
            session=session,
            actor=SYSTEM,
            jury_session=jury_session,
            user=user,
            quality=quality,
            now=NOW,
        )
    return jury_session


def prepare(session: Session, folder: Path, candidates: int) -> tuple[JurySession, User]:
    world = build_world(session)
    jury_session = jury(session, world)
    start = datetime(2027, 2, 9, 7, 30, tzinfo=UTC)
    for number in range(candidates):
        parcours = candidate_parcours(session, world, number)
        fill(session, parcours, folder)
        convene(
            session=session,
            actor=SYSTEM,
            jury_session=jury_session,
            parcours=parcours,
            at=start + timedelta(minutes=15 * number),
            not_ready=None,
            now=NOW,
        )
    return jury_session, world.people["candidat"]


def ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values) + (
        f" ms (median {statistics.median(values) * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "pack.pdf")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        settings = load_settings(
            {"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "DATA_DIR": str(folder)}
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        with Session(engine) as session:
            load_version(session=session, referentiel=loader.load())
            started = time.perf_counter()
            jury_session, _ = prepare(session, folder / "annexes", args.candidates)
            session.commit()
            session_id = jury_session.id
            print(f"set-up: {args.candidates} candidates in {time.perf_counter() - started:.1f} s")
        presentation = settings.interview_presentation_minutes
        render, total, cpu = [], [], []
        for _ in range(args.runs):
            with Session(engine) as session:  # a fresh session: loading is timed too
                convocation = session.scalars(
                    select(Convocation).order_by(Convocation.at).limit(1)
                ).one()
                started, cpu_started = time.perf_counter(), time.process_time()
                data = load_pack(session, convocation, presentation_minutes=presentation, now=NOW)
                loaded = time.perf_counter()
                pdf = pack_pdf(data, annex_dir=folder / "annexes")
                render.append(time.perf_counter() - loaded)
                total.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
        args.out.write_bytes(pdf)
        print(f"{args.out}: {len(pdf) / 1024:.0f} KiB, {page_count(pdf)} pages")
        print(f"one pack, load + render over {args.runs} runs: {ms(total)}")
        print(f"  of which rendering (PDF + merged annexes): {ms(render)}")
        print(f"  CPU time: {ms(cpu)}")
        with Session(engine) as session:
            started, cpu_started = time.perf_counter(), time.process_time()
            whole = session.get(JurySession, session_id)
            assert whole is not None
            path = build_session_packs(session, whole, settings, now=NOW)
            elapsed, cpu_time = time.perf_counter() - started, time.process_time() - cpu_started
        with zipfile.ZipFile(path) as bundle:
            count = len(bundle.namelist())
        size = path.stat().st_size / 1024 / 1024
        print(
            f"session of {count} candidates: {elapsed:.2f} s "
            f"({elapsed / max(count, 1) * 1000:.0f} ms per candidate; CPU {cpu_time:.2f} s), "
            f"zip {size:.1f} MiB"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
