"""The administrators' statistics page and its CSV export (figures for France compétences).

Filters come from the query string (a GET form: works without JavaScript); anything outside
the offered choices is ignored rather than refused. The CSV is long-format (one figure a row),
UTF-8 with a BOM and ``;`` as separator so that French Excel opens it as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from portal.permissions import Action
from portal.statistics_sections import bloc_label, by_branche, sections
from portal.templating import render
from portal.web import Ctx, view
from vae.decision.statistics import ROUTES, Filters, Statistics, available, compute, percent
from vae.parcours.models import ROUTE_LABELS
from vae.parcours.models import Route as ParcoursRoute
from vae.referentiel.service import get_referentiel

CSV_COLUMNS = (
    "indicateur",
    "annee",
    "certification",
    "voie",
    "bloc",
    "organisme",
    "branche",
    "valeur",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _year(raw: str, years: tuple[int, ...]) -> int | None:
    return int(raw) if raw.isdigit() and int(raw) in years else None


def _filters(ctx: Ctx, years: tuple[int, ...], certifications: tuple[str, ...]) -> Filters:
    """The filters of the query string, restricted to what the form offers."""
    params = ctx.request.query_params
    year_from = _year(params.get("du", ""), years)
    year_to = _year(params.get("au", ""), years)
    if year_from is not None and year_to is not None and year_from > year_to:
        year_from, year_to = year_to, year_from
    certification = params.get("certification", "")
    return Filters(year_from, year_to, certification if certification in certifications else None)


def _certifications(ctx: Ctx) -> list[tuple[str, str]]:
    """(short code, label) of every certification of the current référentiel."""
    referentiel = get_referentiel(ctx.db)
    if referentiel is None:
        return []
    return [(c.short, f"{c.short} – {c.title} ({c.code})") for c in referentiel.certifications]


def _load(ctx: Ctx) -> tuple[Statistics, list[tuple[str, str]]]:
    certifications = _certifications(ctx)
    years, with_data = available(ctx.db)
    filters = _filters(ctx, years, tuple(c for c, _ in certifications))
    return compute(ctx.db, filters, (years, with_data)), certifications


@view(Action.VIEW_STATISTICS)
def statistics(ctx: Ctx) -> Response:
    stats, certifications = _load(ctx)
    filters = stats.filters
    context = {
        "stats": stats,
        "sections": sections(stats) if stats.has_results else [],
        "certifications": certifications,
        "year_from": filters.year_from or (stats.years[0] if stats.years else None),
        "year_to": filters.year_to or (stats.years[-1] if stats.years else None),
        "csv_query": urlencode(
            {
                k: v
                for k, v in (
                    ("du", filters.year_from),
                    ("au", filters.year_to),
                    ("certification", filters.certification),
                )
                if v is not None
            }
        ),
    }
    return render(ctx.request, "statistics/index.html", context)


# --- CSV ---------------------------------------------------------------------------------------


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _route(route: str) -> str:
    return ROUTE_LABELS[ParcoursRoute(route)] if route in ROUTES else route


def _row(indicator: str, value: int, **cells: object) -> tuple[str, ...]:
    data = {"indicateur": indicator, "valeur": value, **cells}
    return tuple("" if data.get(c) is None else str(data.get(c)) for c in CSV_COLUMNS)


def csv_rows(stats: Statistics) -> Iterator[tuple[str, ...]]:
    """Every figure of the page, one a row (every organisation, not only the first 20)."""
    for q in stats.cqp:
        yield _row(
            "cqp_delivres",
            q.count,
            annee=q.year,
            certification=q.certification,
            voie=_route(q.route),
        )
    for c in stats.ccp:
        bloc = bloc_label(c.certification, c.bloc_code, c.bloc_key)
        where = {"annee": c.year, "certification": c.certification, "voie": _route(c.route)}
        yield _row("ccp_delivres", c.count, bloc=f"{c.bloc_code} {bloc}", **where)
    for d in stats.decisions:
        bloc = f"{d.bloc_code} {bloc_label(d.certification, d.bloc_code, d.bloc_key)}"
        where = {"annee": d.year, "certification": d.certification, "voie": _route(d.route)}
        yield _row("blocs_decides", d.decided, bloc=bloc, **where)
        yield _row("blocs_valides", d.validated, bloc=bloc, **where)
        yield _row("taux_validation_bloc_pct", percent(d.validated, d.decided), bloc=bloc, **where)
    for o in stats.organisations:
        yield _row("cqp_par_organisme", o.cqp, organisme=o.name, branche=o.branche)
        yield _row("ccp_par_organisme", o.ccp, organisme=o.name, branche=o.branche)
    for b in by_branche(stats.organisations):
        yield _row("cqp_par_branche", b.cqp, branche=b.name)
        yield _row("ccp_par_branche", b.ccp, branche=b.name)
    for r in stats.outcomes:
        where = {"annee": r.year, "certification": r.certification, "voie": _route(r.route)}
        yield _row("candidats_presentes", r.presented, **where)
        yield _row("cqp_complets", r.cqp, **where)
        yield _row("validations_partielles", r.partial, **where)
        yield _row("taux_reussite_cqp_pct", percent(r.cqp, r.presented), **where)
    yield _row("certificats_revoques_exclus", stats.revoked)


def csv_text(stats: Statistics) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(stats):
        writer.writerow([safe_cell(cell) for cell in row])
    return "\ufeff" + buffer.getvalue()


def csv_filename(filters: Filters) -> str:
    parts = ["statistiques-cqp", (filters.certification or "toutes").lower()]
    if filters.year_from is not None:
        parts.append(f"du-{filters.year_from}")
    if filters.year_to is not None:
        parts.append(f"au-{filters.year_to}")
    return "-".join(parts) + ".csv"


@view(Action.VIEW_STATISTICS)
def statistics_csv(ctx: Ctx) -> Response:
    stats, _ = _load(ctx)
    return Response(
        csv_text(stats).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{csv_filename(stats.filters)}"',
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/admin/statistiques", statistics, methods=["GET"], name="statistics"),
    Route("/admin/statistiques.csv", statistics_csv, methods=["GET"], name="statistics_csv"),
]
