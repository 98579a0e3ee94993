"""Figures on issued certificates and national decisions, as France compétences asks for them.

Every function aggregates in SQL (GROUP BY) with a fixed number of queries whatever the amount
of data, on SQLite and PostgreSQL alike. Revoked certificates are never counted (their number
is reported apart). National decisions only count once their session is proclaimed: before
that the national jury may still change them.

Years: a certificate counts in the year it was issued; a national decision in the year of its
national session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    select,
    union,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from vae.decision.models import (
    Certificate,
    CertificateKind,
    Deliberation,
    NationalDossier,
    Proclamation,
)
from vae.jury.models import JurySession
from vae.parcours.models import Parcours
from vae.people.models import Organisation
from vae.referentiel.models import BlocRecord, CertificationBlocRecord, CertificationRecord

ROUTES = ("vae", "formation")
_Ts = TypeVarTuple("_Ts")


@dataclass(frozen=True)
class Filters:
    """Inclusive year range (None: unbounded) and one certification (short code) or all."""

    year_from: int | None = None
    year_to: int | None = None
    certification: str | None = None


@dataclass(frozen=True)
class CqpCount:
    year: int
    certification: str  # short code: COS, GC
    route: str
    count: int


@dataclass(frozen=True)
class CcpCount:
    year: int
    certification: str
    bloc_code: str  # RNCP35543BC01…
    bloc_key: str  # GRU, MDR…
    route: str
    count: int


@dataclass(frozen=True)
class BlocDecisions:
    """National decisions on one bloc: how many were taken, how many validated it."""

    year: int
    certification: str
    bloc_code: str
    bloc_key: str
    route: str
    decided: int
    validated: int


@dataclass(frozen=True)
class OrganisationCount:
    name: str
    branche: str | None
    cqp: int
    ccp: int


@dataclass(frozen=True)
class Outcome:
    """Candidates presented to the national jury (a proclaimed dossier) and what they got."""

    year: int
    certification: str
    route: str
    presented: int
    cqp: int  # whole certification delivered
    partial: int  # at least one CCP, no CQP


@dataclass(frozen=True)
class Statistics:
    filters: Filters
    years: tuple[int, ...]  # every year with data, whatever the filters
    certifications: tuple[str, ...]  # every certification with data, whatever the filters
    cqp: tuple[CqpCount, ...] = ()
    ccp: tuple[CcpCount, ...] = ()
    decisions: tuple[BlocDecisions, ...] = ()
    organisations: tuple[OrganisationCount, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    revoked: int = 0
    bloc_titles: dict[str, str] = field(default_factory=dict)  # bloc code → title

    @property
    def has_data(self) -> bool:
        """Anything issued or proclaimed at all (the page shows an empty state otherwise)."""
        return bool(self.years)

    @property
    def has_results(self) -> bool:
        """Anything within the filters."""
        return bool(self.cqp or self.ccp or self.decisions or self.outcomes)


# --- integer arithmetic ----------------------------------------------------------------------


def percent(part: int, whole: int) -> int:
    """``part / whole`` as a whole percentage, rounded half up, in integers (no float)."""
    if whole <= 0:
        return 0
    return (200 * part + whole) // (2 * whole)


def rate_label(part: int, whole: int) -> str:
    """« 2 sur 3 (67 %) »; a dash when nothing was decided."""
    if whole <= 0:
        return "—"
    return f"{part} sur {whole} ({percent(part, whole)}\u00a0%)"


# --- queries -----------------------------------------------------------------------------------


def _year(column: SQLCoreOperations[date]) -> ColumnElement[int]:
    # EXTRACT on PostgreSQL, CAST(STRFTIME('%Y', …) AS INTEGER) on SQLite
    return cast(func.extract("year", column), Integer)


def _in_years(column: SQLCoreOperations[date], filters: Filters) -> list[ColumnElement[bool]]:
    """Range conditions on the date itself (an index can serve them)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.year_from is not None:
        conditions.append(column >= date(filters.year_from, 1, 1))
    if filters.year_to is not None:
        conditions.append(column <= date(filters.year_to, 12, 31))
    return conditions


def _certificates(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [Certificate.revoked_at.is_(None), *_in_years(Certificate.issued_on, filters)]
    if filters.certification is not None:
        conditions.append(Certificate.certification_short == filters.certification)
    return conditions


def _proclaimed_dossiers(stmt: Select[*_Ts], filters: Filters) -> Select[*_Ts]:
    """Joins a statement on NationalDossier to its proclaimed session and its parcours."""
    stmt = (
        stmt.join(JurySession, JurySession.id == NationalDossier.session_id)
        .join(Proclamation, Proclamation.session_id == JurySession.id)
        .join(Parcours, Parcours.id == NationalDossier.parcours_id)
        .join(CertificationRecord, CertificationRecord.id == Parcours.certification_id)
        .where(*_in_years(JurySession.day, filters))
    )
    if filters.certification is not None:
        stmt = stmt.where(CertificationRecord.short == filters.certification)
    return stmt


def _years(db: Session) -> tuple[tuple[int, ...], tuple[str, ...]]:
    certificate_years = select(
        _year(Certificate.issued_on).label("year"),
        Certificate.certification_short.label("certification"),
    )
    dossier_years = (
        select(_year(JurySession.day), CertificationRecord.short)
        .select_from(NationalDossier)
        .join(JurySession, JurySession.id == NationalDossier.session_id)
        .join(Proclamation, Proclamation.session_id == JurySession.id)
        .join(Parcours, Parcours.id == NationalDossier.parcours_id)
        .join(CertificationRecord, CertificationRecord.id == Parcours.certification_id)
    )
    rows = db.execute(union(certificate_years, dossier_years)).all()
    years = tuple(sorted({int(row[0]) for row in rows}))
    return years, tuple(sorted({str(row[1]) for row in rows}))


def _cqp(db: Session, filters: Filters) -> tuple[CqpCount, ...]:
    year = _year(Certificate.issued_on)
    stmt = (
        select(year, Certificate.certification_short, Certificate.route, func.count())
        .where(Certificate.kind == CertificateKind.CQP.value, *_certificates(filters))
        .group_by(year, Certificate.certification_short, Certificate.route)
    )
    rows = [CqpCount(int(y), c, r, n) for y, c, r, n in db.execute(stmt)]
    return tuple(sorted(rows, key=lambda x: (x.year, x.certification, _route_rank(x.route))))


def _ccp(db: Session, filters: Filters) -> tuple[CcpCount, ...]:
    year = _year(Certificate.issued_on)
    columns = (
        Certificate.certification_short,
        Certificate.bloc_code,
        Certificate.bloc_key,
        Certificate.route,
    )
    stmt = (
        select(year, *columns, func.count())
        .where(Certificate.kind == CertificateKind.CCP.value, *_certificates(filters))
        .group_by(year, *columns)
    )
    rows = [
        CcpCount(int(y), c, code or "", key or "", r, n)
        for y, c, code, key, r, n in db.execute(stmt)
    ]
    return tuple(sorted(rows, key=lambda x: (x.bloc_code, x.year, _route_rank(x.route))))


def _decisions(db: Session, filters: Filters) -> tuple[BlocDecisions, ...]:
    year = _year(JurySession.day)
    bloc_codes = (
        select(
            CertificationBlocRecord.certification_id, BlocRecord.key, CertificationBlocRecord.code
        )
        .join(BlocRecord, BlocRecord.id == CertificationBlocRecord.bloc_id)
        .subquery()
    )
    columns = (
        CertificationRecord.short,
        bloc_codes.c.code,
        Deliberation.bloc_key,
        Parcours.route,
    )
    validated = func.sum(case((Deliberation.validated.is_(True), 1), else_=0))
    stmt = _proclaimed_dossiers(
        select(year, *columns, func.count(Deliberation.id), validated).select_from(NationalDossier),
        filters,
    )
    stmt = (
        stmt.join(Deliberation, Deliberation.dossier_id == NationalDossier.id)
        .outerjoin(
            bloc_codes,
            and_(
                bloc_codes.c.certification_id == CertificationRecord.id,
                bloc_codes.c.key == Deliberation.bloc_key,
            ),
        )
        .group_by(year, *columns)
    )
    rows = [
        BlocDecisions(int(y), c, code or key, key, r, int(n), int(v or 0))
        for y, c, code, key, r, n, v in db.execute(stmt)
    ]
    return tuple(sorted(rows, key=lambda x: (x.bloc_code, x.year, _route_rank(x.route))))


def _organisations(db: Session, filters: Filters) -> tuple[OrganisationCount, ...]:
    cqp = func.sum(case((Certificate.kind == CertificateKind.CQP.value, 1), else_=0))
    ccp = func.sum(case((Certificate.kind == CertificateKind.CCP.value, 1), else_=0))
    stmt = (
        select(Organisation.name, Organisation.branche, cqp, ccp)
        .select_from(Certificate)
        .join(Parcours, Parcours.id == Certificate.parcours_id)
        .join(Organisation, Organisation.id == Parcours.employer_id)
        .where(*_certificates(filters))
        .group_by(Organisation.id, Organisation.name, Organisation.branche)
    )
    rows = [
        OrganisationCount(name, b, int(q or 0), int(c or 0)) for name, b, q, c in db.execute(stmt)
    ]
    return tuple(sorted(rows, key=lambda o: (-o.cqp, -o.ccp, o.name)))


def _outcomes(db: Session, filters: Filters) -> tuple[Outcome, ...]:
    def issued(kind: CertificateKind) -> ColumnElement[bool]:
        return exists().where(
            Certificate.dossier_id == NationalDossier.id,
            Certificate.kind == kind.value,
            Certificate.revoked_at.is_(None),
        )

    year = _year(JurySession.day)
    cqp, ccp = issued(CertificateKind.CQP), issued(CertificateKind.CCP)
    stmt = _proclaimed_dossiers(
        select(
            year,
            CertificationRecord.short,
            Parcours.route,
            func.count(NationalDossier.id),
            func.sum(case((cqp, 1), else_=0)),
            func.sum(case((and_(~cqp, ccp), 1), else_=0)),
        ).select_from(NationalDossier),
        filters,
    ).group_by(year, CertificationRecord.short, Parcours.route)
    rows = [
        Outcome(int(y), c, r, int(n), int(q or 0), int(p or 0))
        for y, c, r, n, q, p in db.execute(stmt)
    ]
    return tuple(sorted(rows, key=lambda x: (x.year, x.certification, _route_rank(x.route))))


def _revoked(db: Session, filters: Filters) -> int:
    conditions = [Certificate.revoked_at.is_not(None), *_in_years(Certificate.issued_on, filters)]
    if filters.certification is not None:
        conditions.append(Certificate.certification_short == filters.certification)
    return int(db.scalar(select(func.count(Certificate.id)).where(*conditions)) or 0)


def _bloc_titles(db: Session) -> dict[str, str]:
    """Bloc code → title, for every certification of every version (a small table)."""
    return dict(
        db.execute(select(CertificationBlocRecord.code, CertificationBlocRecord.title)).all()
    )


def _route_rank(route: str) -> int:
    return ROUTES.index(route) if route in ROUTES else len(ROUTES)


def available(db: Session) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The years and the certifications (short codes) with anything issued or proclaimed."""
    return _years(db)


def compute(
    db: Session,
    filters: Filters,
    known: tuple[tuple[int, ...], tuple[str, ...]] | None = None,
) -> Statistics:
    """Every figure of the statistics page, in eight queries (seven when ``known``, the result
    of ``available``, is given)."""
    years, certifications = known or _years(db)
    if not years:
        return Statistics(filters=filters, years=(), certifications=())
    return Statistics(
        filters=filters,
        years=years,
        certifications=certifications,
        cqp=_cqp(db, filters),
        ccp=_ccp(db, filters),
        decisions=_decisions(db, filters),
        organisations=_organisations(db, filters),
        outcomes=_outcomes(db, filters),
        revoked=_revoked(db, filters),
        bloc_titles=_bloc_titles(db),
    )
