"""National-scale dataset for the benchmark (issue 9): deterministic, seeded, at a scale factor.

At scale 1: 300 organismes over the four branches (20 parcours each: 6,000 parcours over both
CQPs and both routes), ~390,000 attestation versions (signed ones with their real SHA-256 and
a real audit hash chain, so no page shows "Signature rompue"), ~11,500 livret situations with
realistic text lengths, 30 jury professionnel sessions of 60 convocations with their grids, avis
and signatures (real evaluation hashes), 10 national sessions (180 dossiers each) with their
deliberations, proclamations and certificates. Every per-object size (parcours per tutor,
convocations per session, dossiers per national session) is the same at every scale: only the
number of objects grows, so a page's cost should not.

Rows go in with SQLAlchemy Core executemany on a fresh database made by the Alembic migrations
and the référentiel loader. Every user has the same password (one argon2 hash computed once).

    .venv/bin/python -m bench.dataset --scale 0.1 [--database-url URL] [--seed 9]
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from bench import facts
from bench.rows import Rows
from portal.accounts.passwords import hash_password
from portal.db import make_engine
from portal.migrate import upgrade
from portal.models import metadata
from vae.referentiel import loader
from vae.referentiel.service import get_referentiel, load_version

PASSWORD = "banc-essai-kiwi-tornade-42"  # noqa: S105  (benchmark users only)
BRANCHES = (
    ("Maladie", "CPAM"),
    ("Famille", "CAF"),
    ("Retraite", "CARSAT"),
    ("Recouvrement", "URSSAF"),
)
PARCOURS_PER_ORG = 20
TUTORS_PER_ORG = 4
MANAGERS_PER_ORG = 2
CONVOCATIONS_PER_SESSION = 60
JURY_ORGS = 4  # organismes 0..3 provide the experts and convene no candidate
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Counts:
    organismes: int
    pro_sessions: int
    national_sessions: int


def counts(scale: float) -> Counts:
    organismes = max(JURY_ORGS + 2, round(300 * scale))
    return Counts(organismes, max(2, round(30 * scale)), max(1, round(10 * scale)))


def fresh_database(url: str) -> Engine:
    """An empty database at ``url`` (SQLite file removed, PostgreSQL database recreated)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        assert parsed.database, "a SQLite file is needed"
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    else:
        admin = make_engine(parsed.set(database="postgres").render_as_string(False))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = parsed.database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        load_version(session=session, referentiel=loader.load())
        session.commit()
    return engine


def referentiel_ids(engine: Engine) -> tuple[Any, dict[str, int], dict[str, int]]:
    """The in-memory référentiel, competence ids by key, certification ids by short name."""
    with Session(engine) as session:
        referentiel = get_referentiel(session)
        competences = metadata.tables["competences"]
        certifications = metadata.tables["certifications"]
        competence_ids = dict(session.execute(select(competences.c.key, competences.c.id)).all())
        cert_ids = dict(session.execute(select(certifications.c.short, certifications.c.id)).all())
    return referentiel, competence_ids, cert_ids


def generate(engine: Engine, scale: float, seed: int = 9) -> dict[str, int]:
    rng = random.Random(seed)
    referentiel, competence_ids, cert_ids = referentiel_ids(engine)
    password_hash = hash_password(PASSWORD)
    rows = Rows(engine)
    size = counts(scale)
    people = facts.People(rows, password_hash)
    certificateur = people.organisation("Ucanss", "certificateur", "Ucanss", None, "Montreuil")
    people.user(certificateur, "admin@bench.fr", "Alice", "Admin", {"admin"})
    nationals = [
        people.user(
            certificateur, f"national{n}@bench.fr", "Noé", f"National{n}", {"jury_national"}
        )
        for n in range(8)
    ]
    organismes = []
    for number in range(size.organismes):
        branche, kind = BRANCHES[number % 4]
        org = people.organisation(
            f"{kind} n°{number:03d}", "organisme", kind, branche, f"Ville{number:03d}"
        )
        organismes.append((org, branche))
    carnets = facts.Carnets(rows, rng, referentiel, competence_ids, cert_ids)
    convenable: list[facts.ParcoursFacts] = []
    for index, (org, _branche) in enumerate(organismes):
        referent = people.user(
            org, f"referent.{index}@bench.fr", "Rémi", f"Référent{index}", {"referent"}
        )
        managers = [
            people.user(
                org, f"manager.{index}.{m}@bench.fr", "Marie", f"Manager{index}-{m}", {"manager"}
            )
            for m in range(MANAGERS_PER_ORG)
        ]
        tutors = [
            people.user(
                org, f"tuteur.{index}.{t}@bench.fr", "Théo", f"Tuteur{index}-{t}", {"tuteur"}
            )
            for t in range(TUTORS_PER_ORG)
        ]
        for number in range(PARCOURS_PER_ORG):
            manager = managers[number % MANAGERS_PER_ORG]
            candidate = people.user(
                org,
                f"candidat.{index}.{number}@bench.fr",
                rng.choice(("Camille", "Jules", "Inès", "Louis", "Léa", "Hugo")),
                f"Candidat{index}-{number}",
                {"candidat"},
                manager_id=manager.id,
            )
            parcours = carnets.parcours(
                org=org,
                candidate=candidate,
                tutor=tutors[number % TUTORS_PER_ORG],
                manager=manager,
                referent=referent,
                certification="COS" if rng.random() < 0.55 else "GC",
                route="vae" if number % 2 else "formation",
                progress=rng.random(),
            )
            if index >= JURY_ORGS and parcours.progress > 0.4:
                convenable.append(parcours)
        if index % 20 == 19:
            rows.flush()
    rows.flush()
    juries = facts.Juries(rows, rng, referentiel, people, carnets)
    experts = {branche: org for org, branche in organismes[:JURY_ORGS]}
    juries.sessions(
        convenable=convenable,
        pro_sessions=size.pro_sessions,
        per_session=CONVOCATIONS_PER_SESSION,
        certificateur=certificateur,
        experts=experts,
        nationals=nationals,
    )
    rows.flush()
    carnets.audit.finish(rows)
    rows.flush()
    rows.finish()
    return rows.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--database-url", default="sqlite:///var/bench/bench-0.1.sqlite3")
    args = parser.parse_args()
    started = time.perf_counter()
    engine = fresh_database(args.database_url)
    made = time.perf_counter()
    table = generate(engine, args.scale, args.seed)
    done = time.perf_counter()
    print(f"schema + référentiel: {made - started:.1f} s; rows: {done - made:.1f} s")
    for name, count in sorted(table.items()):
        print(f"  {name:28} {count:>9,}")
    with engine.connect() as connection:
        versions = connection.scalar(
            select(func.count()).select_from(metadata.tables["attestation_versions"])
        )
    print(f"attestation versions: {versions:,}")
    engine.dispose()


if __name__ == "__main__":
    main()
