"""Statistics on certificates and national decisions: exact figures on a hand-made dataset.

The dataset (``build_dataset``, also used by the view tests):

=====  ====  =========  =============  ====  ========================================
dossier cert route      employer       year  outcome
=====  ====  =========  =============  ====  ========================================
P1     COS   vae        CPAM Alpha     2025  CQP + 4 CCP (all blocs validated)
P2     COS   formation  CAF Beta       2025  CCP GRU, MDR (POS, TD not validated)
P3     GC    vae        URSSAF Gamma   2026  CQP + 3 CCP
P4     GC    formation  CPAM Alpha     2026  CQP **revoked** + 3 CCP
P5     COS   formation  CAF Beta       2026  nothing validated
P6     COS   vae        CPAM Alpha     2026  decided, session not proclaimed: not counted
=====  ====  =========  =============  ====  ========================================
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from vae.decision.models import (
    Certificate,
    Deliberation,
    Evaluation,
    NationalDossier,
    Proclamation,
)
from vae.decision.statistics import (
    BlocDecisions,
    CcpCount,
    CqpCount,
    Filters,
    OrganisationCount,
    Outcome,
    compute,
    percent,
    rate_label,
)
from vae.jury.models import Convocation, JurySession
from vae.parcours.models import Parcours
from vae.people.models import Organisation, User
from vae.referentiel.models import CertificationRecord

BLOCS = {"COS": ("GRU", "MDR", "POS", "TD"), "GC": ("GRU", "MDR", "GDU")}
BLOC_NUMBERS = {
    "COS": {"GRU": 1, "MDR": 2, "POS": 3, "TD": 4},
    "GC": {"GRU": 1, "MDR": 2, "GDU": 3},
}
_codes = itertools.count(1)


@dataclass
class Dataset:
    organisations: dict[str, Organisation]
    parcours: dict[str, Parcours]


def _certification(db: Session, short: str) -> CertificationRecord:
    record = db.scalars(
        select(CertificationRecord)
        .where(CertificationRecord.short == short)
        .order_by(CertificationRecord.id.desc())
    ).first()
    assert record is not None
    return record


def _session(db: Session, kind: str, day: date) -> JurySession:
    session = JurySession(kind=kind, day=day, place="Montreuil", capacity=20)
    db.add(session)
    db.flush()
    return session


def _parcours(db: Session, key: str, short: str, route: str, employer: Organisation) -> Parcours:
    person = User(
        email=f"stat-{key.lower()}-{next(_codes)}@test.fr",
        civility="Mme",
        first_name=key,
        last_name="Statistique",
        organisation_id=employer.id,
    )
    db.add(person)
    db.flush()
    parcours = Parcours(
        candidate_id=person.id,
        certification_id=_certification(db, short).id,
        route=route,
        employer_id=employer.id,
        start_date=date(2024, 9, 1),
    )
    db.add(parcours)
    db.flush()
    return parcours


def _dossier(
    db: Session, parcours: Parcours, pro: JurySession, national: JurySession, validated: set[str]
) -> NationalDossier:
    convocation = Convocation(
        session_id=pro.id, parcours_id=parcours.id, at=datetime(2025, 2, 3, tzinfo=UTC), place="x"
    )
    db.add(convocation)
    db.flush()
    evaluation = Evaluation(
        convocation_id=convocation.id, session_id=pro.id, parcours_id=parcours.id
    )
    db.add(evaluation)
    db.flush()
    dossier = NationalDossier(
        session_id=national.id, evaluation_id=evaluation.id, parcours_id=parcours.id
    )
    db.add(dossier)
    db.flush()
    short = parcours.certification.short
    for key in BLOCS[short]:
        db.add(Deliberation(dossier_id=dossier.id, bloc_key=key, validated=key in validated))
    db.flush()
    return dossier


def certificate(
    db: Session,
    parcours: Parcours,
    kind: str,
    issued_on: date,
    bloc_key: str | None = None,
    dossier: NationalDossier | None = None,
    revoked: bool = False,
) -> Certificate:
    record = parcours.certification
    number = BLOC_NUMBERS[record.short][bloc_key] if bloc_key else None
    row = Certificate(
        code=f"STAT{next(_codes):08d}",
        kind=kind,
        holder_id=parcours.candidate_id,
        parcours_id=parcours.id,
        dossier_id=dossier.id if dossier else None,
        session_id=dossier.session_id if dossier else None,
        certification_code=record.code,
        certification_short=record.short,
        certification_title=record.title,
        bloc_key=bloc_key,
        bloc_code=f"{record.code}BC{number:02d}" if number else None,
        bloc_title=bloc_key,
        route=parcours.route,
        issued_on=issued_on,
        holder_first_name="X",
        holder_last_name="Y",
        revoked_at=datetime(2026, 12, 1, tzinfo=UTC) if revoked else None,
    )
    db.add(row)
    db.flush()
    return row


def _organisation(db: Session, name: str, type_: str, branche: str) -> Organisation:
    org = Organisation(name=name, kind="organisme", type=type_, branche=branche)
    db.add(org)
    db.flush()
    return org


def build_dataset(db: Session, *, suffix: str = "", alpha: str = "CPAM Alpha") -> Dataset:
    orgs = {
        "alpha": _organisation(db, alpha + suffix, "CPAM", "Maladie"),
        "beta": _organisation(db, "CAF Beta" + suffix, "CAF", "Famille"),
        "gamma": _organisation(db, "URSSAF Gamma" + suffix, "URSSAF", "Recouvrement"),
    }
    pro = _session(db, "professionnel", date(2025, 2, 3))
    n2025, n2026 = (
        _session(db, "national", date(2025, 3, 10)),
        _session(db, "national", date(2026, 3, 9)),
    )
    pending = _session(db, "national", date(2026, 11, 9))
    for national in (n2025, n2026):
        db.add(Proclamation(session_id=national.id, proclaimed_at=datetime.now(UTC)))
    spec = [
        ("P1", "COS", "vae", "alpha", n2025, set(BLOCS["COS"]), True, False),
        ("P2", "COS", "formation", "beta", n2025, {"GRU", "MDR"}, False, False),
        ("P3", "GC", "vae", "gamma", n2026, set(BLOCS["GC"]), True, False),
        ("P4", "GC", "formation", "alpha", n2026, set(BLOCS["GC"]), True, True),
        ("P5", "COS", "formation", "beta", n2026, set(), False, False),
        ("P6", "COS", "vae", "alpha", pending, set(BLOCS["COS"]), False, False),
    ]
    parcours = {}
    for key, short, route, org, national, validated, cqp, revoked in spec:
        p = parcours[key] = _parcours(db, key, short, route, orgs[org])
        dossier = _dossier(db, p, pro, national, validated)
        if national is pending:
            continue
        for bloc in sorted(validated):
            certificate(db, p, "ccp", national.day, bloc, dossier)
        if cqp:
            certificate(db, p, "cqp", national.day, None, dossier, revoked=revoked)
    return Dataset(orgs, parcours)


# --- arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (1, 8, 13),
        (5, 8, 63),
        (2, 3, 67),
        (1, 3, 33),
        (1, 200, 1),
        (1, 201, 0),
        (0, 0, 0),
        (7, 7, 100),
    ],
)
def test_percent_rounds_half_up_in_integers(part: int, whole: int, expected: int) -> None:
    assert percent(part, whole) == expected


def test_rate_label() -> None:
    assert rate_label(2, 3) == "2 sur 3 (67\u00a0%)"
    assert rate_label(0, 0) == "—"


# --- aggregation -----------------------------------------------------------------------------


def test_empty_database_has_no_data(db: Session) -> None:
    stats = compute(db, Filters())
    assert not stats.has_data and not stats.has_results and stats.years == ()


def test_every_figure_of_the_dataset(db: Session) -> None:
    build_dataset(db)
    stats = compute(db, Filters())
    assert stats.years == (2025, 2026)
    assert stats.certifications == ("COS", "GC")
    assert stats.revoked == 1
    assert stats.cqp == (CqpCount(2025, "COS", "vae", 1), CqpCount(2026, "GC", "vae", 1))
    cos, gc = "RNCP35543BC", "RNCP35729BC"
    assert stats.ccp == (
        CcpCount(2025, "COS", f"{cos}01", "GRU", "vae", 1),
        CcpCount(2025, "COS", f"{cos}01", "GRU", "formation", 1),
        CcpCount(2025, "COS", f"{cos}02", "MDR", "vae", 1),
        CcpCount(2025, "COS", f"{cos}02", "MDR", "formation", 1),
        CcpCount(2025, "COS", f"{cos}03", "POS", "vae", 1),
        CcpCount(2025, "COS", f"{cos}04", "TD", "vae", 1),
        CcpCount(2026, "GC", f"{gc}01", "GRU", "vae", 1),
        CcpCount(2026, "GC", f"{gc}01", "GRU", "formation", 1),
        CcpCount(2026, "GC", f"{gc}02", "MDR", "vae", 1),
        CcpCount(2026, "GC", f"{gc}02", "MDR", "formation", 1),
        CcpCount(2026, "GC", f"{gc}03", "GDU", "vae", 1),
        CcpCount(2026, "GC", f"{gc}03", "GDU", "formation", 1),
    )
    decisions = {(d.year, d.bloc_code, d.route): (d.validated, d.decided) for d in stats.decisions}
    assert decisions == {
        (2025, f"{cos}01", "vae"): (1, 1),
        (2025, f"{cos}01", "formation"): (1, 1),
        (2026, f"{cos}01", "formation"): (0, 1),
        (2025, f"{cos}02", "vae"): (1, 1),
        (2025, f"{cos}02", "formation"): (1, 1),
        (2026, f"{cos}02", "formation"): (0, 1),
        (2025, f"{cos}03", "vae"): (1, 1),
        (2025, f"{cos}03", "formation"): (0, 1),
        (2026, f"{cos}03", "formation"): (0, 1),
        (2025, f"{cos}04", "vae"): (1, 1),
        (2025, f"{cos}04", "formation"): (0, 1),
        (2026, f"{cos}04", "formation"): (0, 1),
        (2026, f"{gc}01", "vae"): (1, 1),
        (2026, f"{gc}01", "formation"): (1, 1),
        (2026, f"{gc}02", "vae"): (1, 1),
        (2026, f"{gc}02", "formation"): (1, 1),
        (2026, f"{gc}03", "vae"): (1, 1),
        (2026, f"{gc}03", "formation"): (1, 1),
    }
    assert stats.decisions[0] == BlocDecisions(2025, "COS", f"{cos}01", "GRU", "vae", 1, 1)
    assert stats.organisations == (
        OrganisationCount("CPAM Alpha", "Maladie", 1, 7),
        OrganisationCount("URSSAF Gamma", "Recouvrement", 1, 3),
        OrganisationCount("CAF Beta", "Famille", 0, 2),
    )
    assert stats.outcomes == (
        Outcome(2025, "COS", "vae", 1, 1, 0),
        Outcome(2025, "COS", "formation", 1, 0, 1),
        Outcome(2026, "COS", "formation", 1, 0, 0),
        Outcome(2026, "GC", "vae", 1, 1, 0),
        Outcome(2026, "GC", "formation", 1, 0, 1),  # its CQP was revoked: CCPs only
    )
    assert stats.bloc_titles[f"{cos}03"]


def test_filters_by_year_and_certification(db: Session) -> None:
    build_dataset(db)
    only_2026 = compute(db, Filters(year_from=2026, year_to=2026))
    assert only_2026.years == (2025, 2026)  # the choices stay
    assert only_2026.cqp == (CqpCount(2026, "GC", "vae", 1),)
    assert {c.year for c in only_2026.ccp} == {2026}
    assert [(o.year, o.certification) for o in only_2026.outcomes] == [
        (2026, "COS"),
        (2026, "GC"),
        (2026, "GC"),
    ]
    assert only_2026.revoked == 1
    cos = compute(db, Filters(certification="COS"))
    assert cos.cqp == (CqpCount(2025, "COS", "vae", 1),)
    assert {c.certification for c in cos.ccp} == {"COS"}
    assert {d.certification for d in cos.decisions} == {"COS"}
    assert cos.revoked == 0
    assert cos.organisations == (
        OrganisationCount("CPAM Alpha", "Maladie", 1, 4),
        OrganisationCount("CAF Beta", "Famille", 0, 2),
    )
    assert (
        compute(db, Filters(year_from=2025, year_to=2025, certification="GC")).has_results is False
    )


@pytest.fixture
def statements(db: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


def test_a_fixed_number_of_queries_whatever_the_data(db: Session, statements: list[str]) -> None:
    build_dataset(db)
    statements.clear()
    compute(db, Filters())
    small = len(statements)
    assert small == 8
    for index in range(3):
        build_dataset(db, suffix=f" {index}")
    statements.clear()
    bigger = compute(db, Filters())
    assert len(statements) == small
    assert bigger.organisations[0].ccp == 7 and len(bigger.organisations) == 4 * 3
