"""The statistics page's sections: each a heading and figures, a figure being a table and the
SVG chart of the same numbers (``portal.charts``). Pure shaping of ``vae.decision.statistics``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup

from portal.charts import Series, bar_chart
from vae.decision.statistics import (
    ROUTES,
    BlocDecisions,
    OrganisationCount,
    Statistics,
    percent,
    rate_label,
)
from vae.parcours.models import ROUTE_LABELS, Route
from vae.people.models import Branche

TOP_ORGANISATIONS = 20
NO_BRANCHE = "Non renseignée"
PCT = "\u00a0%"
ROUTE_NAMES = [ROUTE_LABELS[Route(r)] for r in ROUTES]


@dataclass
class Table:
    caption: str
    head: list[str]  # the first column holds the row headers (th scope="row")
    rows: list[list[str]]
    foot: list[str] | None = None


@dataclass
class Figure:
    table: Table
    chart: Markup | None = None


@dataclass
class Section:
    id: str
    heading: str
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


def bloc_label(certification: str, bloc_code: str, bloc_key: str) -> str:
    """« COS BC01 GRU » from the RNCP bloc code (…BC01) and its key."""
    return f"{certification} {bloc_code[-4:]} {bloc_key}".strip()


def top_organisations(
    organisations: Iterable[OrganisationCount], limit: int = TOP_ORGANISATIONS
) -> list[OrganisationCount]:
    """The ``limit`` first organisations (most CQP, then most CCP), the rest summed up."""
    ranked = list(organisations)
    head, rest = ranked[:limit], ranked[limit:]
    if rest:
        name = f"Autres organismes ({len(rest)})"
        head.append(
            OrganisationCount(name, None, sum(o.cqp for o in rest), sum(o.ccp for o in rest))
        )
    return head


def by_branche(organisations: Iterable[OrganisationCount]) -> list[OrganisationCount]:
    """The four branches, always, then organisations without a branche if any counted."""
    cqp: dict[str, int] = defaultdict(int)
    ccp: dict[str, int] = defaultdict(int)
    for org in organisations:
        cqp[org.branche or NO_BRANCHE] += org.cqp
        ccp[org.branche or NO_BRANCHE] += org.ccp
    names = [b.value for b in Branche]
    if cqp[NO_BRANCHE] or ccp[NO_BRANCHE]:
        names.append(NO_BRANCHE)
    return [OrganisationCount(name, name, cqp[name], ccp[name]) for name in names]


def _cqp_section(stats: Statistics, several: bool) -> Section:
    cells: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROUTES, 0))
    for row in stats.cqp:
        cells[(row.year, row.certification)][row.route] += row.count
    keys = sorted(cells)
    labels = [f"{y} · {c}" if several else str(y) for y, c in keys]
    rows = []
    for label, key in zip(labels, keys, strict=True):
        counts = cells[key]
        total = sum(counts.values())
        rows.append(
            [label, *(str(counts[r]) for r in ROUTES), str(total), rate_label(counts["vae"], total)]
        )
    vae, formation = (sum(cells[k][r] for k in keys) for r in ROUTES)
    table = Table(
        "CQP délivrés par année et par voie d'accès",
        ["Année", *ROUTE_NAMES, "Total", "Part via la VAE"],
        rows,
        ["Total", str(vae), str(formation), str(vae + formation), rate_label(vae, vae + formation)],
    )
    chart = None
    if keys:
        chart = bar_chart(
            "chart-cqp",
            "CQP délivrés par année, VAE et formation",
            f"{vae + formation} CQP délivrés, dont {vae} par la VAE et {formation} par la "
            "formation ; barres empilées par année, chiffres dans le tableau qui suit.",
            categories=labels,
            series=[
                Series(n, tuple(cells[k][r] for k in keys))
                for r, n in zip(ROUTES, ROUTE_NAMES, strict=True)
            ],
            stacked=True,
            axis_label="Nombre de CQP",
        )
    return Section("cqp", "Certifiés par année (CQP complets)", figures=[Figure(table, chart)])


def _ccp_figure(stats: Statistics) -> Figure:
    per_year: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROUTES, 0))
    per_bloc: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROUTES, 0))
    labels: dict[str, str] = {}
    for row in stats.ccp:
        label = bloc_label(row.certification, row.bloc_code, row.bloc_key)
        labels[row.bloc_code] = label
        per_year[(row.bloc_code, row.year)][row.route] += row.count
        per_bloc[row.bloc_code][row.route] += row.count
    rows = [
        [
            _titled(stats, labels[code], code),
            str(year),
            *(str(c[r]) for r in ROUTES),
            str(sum(c.values())),
        ]
        for (code, year), c in sorted(per_year.items())
    ]
    table = Table(
        "CCP délivrés par bloc, par année et par voie d'accès",
        ["Bloc", "Année", *ROUTE_NAMES, "Total"],
        rows,
    )
    codes = sorted(per_bloc)
    chart = None
    if codes:
        chart = bar_chart(
            "chart-ccp",
            "CCP délivrés par bloc, VAE et formation",
            f"{sum(sum(c.values()) for c in per_bloc.values())} CCP délivrés sur "
            f"{len(codes)} blocs ; barres groupées par voie, chiffres dans le tableau qui suit.",
            categories=[labels[c] for c in codes],
            series=[
                Series(n, tuple(per_bloc[c][r] for c in codes))
                for r, n in zip(ROUTES, ROUTE_NAMES, strict=True)
            ],
            axis_label="Nombre de CCP",
        )
    return Figure(table, chart)


def _titled(stats: Statistics, label: str, code: str) -> str:
    title = stats.bloc_titles.get(code)
    return f"{label} – {title}" if title else label


def _percent_or_none(part: int, whole: int) -> int | None:
    return percent(part, whole) if whole else None


def _rates_figure(decisions: Iterable[BlocDecisions], stats: Statistics) -> Figure:
    counts: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {r: [0, 0] for r in (*ROUTES, "all")}
    )
    labels: dict[str, str] = {}
    for row in decisions:
        labels[row.bloc_code] = bloc_label(row.certification, row.bloc_code, row.bloc_key)
        for key in (row.route, "all"):
            counts[row.bloc_code][key][0] += row.validated
            counts[row.bloc_code][key][1] += row.decided
    codes = sorted(counts)
    rows = [
        [_titled(stats, labels[c], c), *(rate_label(*counts[c][r]) for r in (*ROUTES, "all"))]
        for c in codes
    ]
    table = Table(
        "Taux de validation par bloc (décisions du jury paritaire national)",
        ["Bloc", *ROUTE_NAMES, "Ensemble"],
        rows,
    )
    chart = None
    if codes:
        chart = bar_chart(
            "chart-rates",
            "Taux de validation par bloc, VAE, formation et ensemble",
            "Part des blocs validés parmi les blocs sur lesquels le jury national a décidé, "
            "en pourcentage ; valeurs exactes dans le tableau qui suit ; un tiret quand aucune "
            "décision.",
            categories=[labels[c] for c in codes],
            series=[
                Series(n, tuple(_percent_or_none(*counts[c][r]) for c in codes))
                for r, n in zip((*ROUTES, "all"), (*ROUTE_NAMES, "Ensemble"), strict=True)
            ],
            unit=PCT,
            maximum=100,
            axis_label="Blocs validés (%)",
        )
    return Figure(table, chart)


def _count_figure(
    chart_id: str, caption: str, first: str, rows: list[OrganisationCount], branche: bool
) -> Figure:
    head = [first, *(["Branche"] if branche else []), "CQP", "CCP"]
    body = [
        [o.name, *([o.branche or "—"] if branche else []), str(o.cqp), str(o.ccp)] for o in rows
    ]
    chart = None
    if any(o.cqp or o.ccp for o in rows):
        chart = bar_chart(
            chart_id,
            caption,
            f"{sum(o.cqp for o in rows)} CQP et {sum(o.ccp for o in rows)} CCP ; "
            "barres groupées, chiffres dans le tableau qui suit.",
            categories=[o.name for o in rows],
            series=[
                Series("CQP", tuple(o.cqp for o in rows)),
                Series("CCP", tuple(o.ccp for o in rows)),
            ],
            axis_label="Nombre de certificats",
        )
    return Figure(Table(caption, head, body), chart)


def _outcome_section(stats: Statistics) -> Section:
    rows, labels = [], []
    for o in stats.outcomes:
        route = ROUTE_LABELS[Route(o.route)] if o.route in ROUTES else o.route
        labels.append(f"{o.year} · {o.certification} · {route}")
        rows.append(
            [
                str(o.year),
                o.certification,
                route,
                str(o.presented),
                str(o.cqp),
                str(o.partial),
                rate_label(o.cqp, o.presented),
            ]
        )
    certified = sum(o.cqp for o in stats.outcomes)
    via_vae = sum(o.cqp for o in stats.outcomes if o.route == Route.VAE.value)
    presented = sum(o.presented for o in stats.outcomes)
    table = Table(
        "Candidats présentés au jury national et certifiés",
        [
            "Année",
            "Certification",
            "Voie",
            "Présentés",
            "CQP complets",
            "Validations partielles",
            "Taux de réussite (CQP)",
        ],
        rows,
    )
    summary = [
        f"Nombre de candidats présentés : {presented}.",
        f"Nombre de certifiés (CQP complet) : {certified}, taux de réussite "
        f"{rate_label(certified, presented)}.",
        f"Part des certifiés via la VAE : {rate_label(via_vae, certified)}.",
    ]
    chart = None
    if rows:
        chart = bar_chart(
            "chart-outcomes",
            "Candidats présentés, CQP complets et validations partielles",
            "Par année, certification et voie ; barres groupées, chiffres dans le tableau qui "
            "suit.",
            categories=labels,
            series=[
                Series("Présentés", tuple(o.presented for o in stats.outcomes)),
                Series("CQP complets", tuple(o.cqp for o in stats.outcomes)),
                Series("Validations partielles", tuple(o.partial for o in stats.outcomes)),
            ],
            axis_label="Nombre de candidats",
        )
    return Section(
        "presentes",
        "Candidats présentés et certifiés",
        summary=summary,
        intro="Un candidat est présenté quand son dossier figure dans une session "
        "du jury national proclamée ; l'année est celle de la session.",
        figures=[Figure(table, chart)],
    )


def sections(stats: Statistics) -> list[Section]:
    several = stats.filters.certification is None and len(stats.certifications) > 1
    return [
        _cqp_section(stats, several),
        Section(
            "blocs",
            "CCP par bloc et taux de validation",
            figures=[_ccp_figure(stats), _rates_figure(stats.decisions, stats)],
        ),
        Section(
            "organismes",
            "Par organisme et par branche",
            figures=[
                _count_figure(
                    "chart-organisations",
                    f"Certificats par organisme employeur ({TOP_ORGANISATIONS} premiers)",
                    "Organisme",
                    top_organisations(stats.organisations),
                    True,
                ),
                _count_figure(
                    "chart-branches",
                    "Certificats par branche de législation",
                    "Branche",
                    by_branche(stats.organisations),
                    False,
                ),
            ],
        ),
        _outcome_section(stats),
    ]
