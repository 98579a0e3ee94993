"""The statistics page, its SVG charts and its CSV export, on the dataset of
``tests.decision.test_statistics`` (see its table)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.charts import Series, bar_chart, nice_step
from portal.settings import Settings
from portal.statistics_sections import by_branche, top_organisations
from portal.views.statistics import safe_cell
from tests.decision.test_statistics import build_dataset, certificate
from tests.portal.world import build_world, sign_in_as
from vae.decision.statistics import OrganisationCount

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"


class _Tables(HTMLParser):
    """Every table of a page: its caption and rows of (tag, scope, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str, str]]]] = {}
        self._rows: list[list[tuple[str, str, str]]] | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._scope = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell, self._scope = [], dict(attrs).get("scope") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self._title = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._rows is not None:
            text = re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip()
            self._rows[-1].append((tag, self._scope, text))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._title] = self._rows
            self._rows = None

    def handle_data(self, data: str) -> None:
        for target in (self._caption, self._cell):
            if target is not None:
                target.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return {k: [[c[2] for c in row] for row in rows] for k, rows in parser.tables.items()}


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own output, parsed to check it is well-formed


def svgs(html: str) -> list[ET.Element]:
    return [parse_svg(m) for m in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


def _words(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", html)


@pytest.fixture
def admin(client: TestClient, db: Session, settings: Settings):  # type: ignore[no-untyped-def]
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])
    return world


# --- the page ----------------------------------------------------------------------------------


def test_empty_state_without_charts(client: TestClient, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/admin/statistiques")
    assert response.status_code == 200
    assert "Aucun certificat délivré pour l'instant." in response.text
    assert "<svg" not in response.text and "<table" not in response.text


def test_page_tables_and_charts(client: TestClient, db: Session, admin) -> None:  # type: ignore[no-untyped-def]
    build_dataset(db)
    html = client.get("/admin/statistiques").text
    assert 'href="/admin/statistiques" aria-current="page">Statistiques' in html
    assert "1 certificat révoqué exclu" in html
    found = tables(html)
    assert found["CQP délivrés par année et par voie d'accès"] == [
        ["Année", "VAE", "Formation", "Total", "Part via la VAE"],
        ["2025 · COS", "1", "0", "1", f"1 sur 1 (100{NBSP}%)"],
        ["2026 · GC", "1", "0", "1", f"1 sur 1 (100{NBSP}%)"],
        ["Total", "2", "0", "2", f"2 sur 2 (100{NBSP}%)"],
    ]
    rates = found["Taux de validation par bloc (décisions du jury paritaire national)"]
    assert rates[0] == ["Bloc", "VAE", "Formation", "Ensemble"]
    pos = next(row for row in rates if row[0].startswith("COS BC03 POS"))
    assert pos[1:] == [f"1 sur 1 (100{NBSP}%)", f"0 sur 2 (0{NBSP}%)", f"1 sur 3 (33{NBSP}%)"]
    gru = next(row for row in rates if row[0].startswith("COS BC01 GRU"))
    assert gru[3] == f"2 sur 3 (67{NBSP}%)"
    gdu = next(row for row in rates if row[0].startswith("GC BC03 GDU"))
    assert gdu[1:] == [f"1 sur 1 (100{NBSP}%)", f"1 sur 1 (100{NBSP}%)", f"2 sur 2 (100{NBSP}%)"]
    ccp = found["CCP délivrés par bloc, par année et par voie d'accès"]
    assert ccp[1][1:] == ["2025", "1", "1", "2"] and ccp[1][0].startswith("COS BC01 GRU – ")
    assert len(ccp) == 1 + 7  # COS: 4 blocs in 2025; GC: 3 blocs in 2026
    assert found["Certificats par organisme employeur (20 premiers)"][1:] == [
        ["CPAM Alpha", "Maladie", "1", "7"],
        ["URSSAF Gamma", "Recouvrement", "1", "3"],
        ["CAF Beta", "Famille", "0", "2"],
    ]
    assert found["Certificats par branche de législation"][1:] == [
        ["Maladie", "1", "7"],
        ["Famille", "0", "2"],
        ["Retraite", "0", "0"],
        ["Recouvrement", "1", "3"],
    ]
    outcomes = found["Candidats présentés au jury national et certifiés"]
    assert outcomes[1:] == [
        ["2025", "COS", "VAE", "1", "1", "0", f"1 sur 1 (100{NBSP}%)"],
        ["2025", "COS", "Formation", "1", "0", "1", f"0 sur 1 (0{NBSP}%)"],
        ["2026", "COS", "Formation", "1", "0", "0", f"0 sur 1 (0{NBSP}%)"],
        ["2026", "GC", "VAE", "1", "1", "0", f"1 sur 1 (100{NBSP}%)"],
        ["2026", "GC", "Formation", "1", "0", "1", f"0 sur 1 (0{NBSP}%)"],
    ]
    assert f"taux de réussite 2 sur 5 (40{NBSP}%)" in html
    assert f"Part des certifiés via la VAE : 2 sur 2 (100{NBSP}%)" in html
    assert '<th scope="row">2025 · COS</th>' in html and '<th scope="col">Année</th>' in html
    charts = svgs(html)
    assert len(charts) == 6
    for chart in charts:
        assert chart.get("role") == "img"
        assert chart.find(f"{SVG}title") is not None and chart.find(f"{SVG}desc") is not None
    assert "<script" not in html.split("<main", 1)[1]


def test_filters(client: TestClient, db: Session, admin) -> None:  # type: ignore[no-untyped-def]
    build_dataset(db)
    html = client.get("/admin/statistiques?du=2026&au=2026&certification=GC").text
    assert '<option value="2026" selected>' in html
    assert '<option value="GC" selected>' in html
    found = tables(html)
    assert found["CQP délivrés par année et par voie d'accès"][1:] == [
        ["2026", "1", "0", "1", f"1 sur 1 (100{NBSP}%)"],
        ["Total", "1", "0", "1", f"1 sur 1 (100{NBSP}%)"],
    ]
    assert "1 certificat révoqué exclu" in html
    assert 'href="/admin/statistiques.csv?du=2026&amp;au=2026&amp;certification=GC"' in html
    # nothing in these filters
    html = client.get("/admin/statistiques?du=2025&au=2025&certification=GC").text
    assert "Aucun certificat délivré ni aucune décision proclamée pour ces critères." in html
    assert "<svg" not in html
    # unknown values are ignored; a reversed range is put right
    html = client.get("/admin/statistiques?du=abc&au=1999&certification=%3Cb%3E").text
    assert "De 2025 à 2026, toutes les certifications" in _words(html) and "<b>" not in html
    html = client.get("/admin/statistiques?du=2026&au=2025").text
    assert "De 2025 à 2026, toutes les certifications" in _words(html)


def test_navigation_link_only_for_administrators(
    client: TestClient, db: Session, settings: Settings, admin
) -> None:  # type: ignore[no-untyped-def]
    assert ">Statistiques</a>" in client.get("/tableau-de-bord").text
    sign_in_as(client, db, settings, admin.people["referent"])
    assert ">Statistiques</a>" not in client.get("/tableau-de-bord").text
    assert client.get("/admin/statistiques").status_code == 403


# --- CSV ---------------------------------------------------------------------------------------


def _csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_csv_export(client: TestClient, db: Session, admin) -> None:  # type: ignore[no-untyped-def]
    build_dataset(db)
    response = client.get("/admin/statistiques.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="statistiques-cqp-toutes.csv"'
    )
    rows = _csv(response)
    assert list(rows[0]) == [
        "indicateur",
        "annee",
        "certification",
        "voie",
        "bloc",
        "organisme",
        "branche",
        "valeur",
    ]

    def pick(indicator: str) -> list[list[str]]:
        return [list(r.values())[1:] for r in rows if r["indicateur"] == indicator]

    assert pick("cqp_delivres") == [
        ["2025", "COS", "VAE", "", "", "", "1"],
        ["2026", "GC", "VAE", "", "", "", "1"],
    ]
    assert pick("ccp_delivres")[0] == [
        "2025",
        "COS",
        "VAE",
        "RNCP35543BC01 COS BC01 GRU",
        "",
        "",
        "1",
    ]
    assert len(pick("ccp_delivres")) == 12
    assert ["2025", "COS", "Formation", "RNCP35543BC03 COS BC03 POS", "", "", "1"] in pick(
        "blocs_decides"
    )
    assert ["2025", "COS", "Formation", "RNCP35543BC03 COS BC03 POS", "", "", "0"] in pick(
        "blocs_valides"
    )
    assert pick("cqp_par_organisme") == [
        ["", "", "", "", "CPAM Alpha", "Maladie", "1"],
        ["", "", "", "", "URSSAF Gamma", "Recouvrement", "1"],
        ["", "", "", "", "CAF Beta", "Famille", "0"],
    ]
    assert pick("ccp_par_branche") == [
        ["", "", "", "", "", "Maladie", "7"],
        ["", "", "", "", "", "Famille", "2"],
        ["", "", "", "", "", "Retraite", "0"],
        ["", "", "", "", "", "Recouvrement", "3"],
    ]
    assert pick("candidats_presentes") == [
        ["2025", "COS", "VAE", "", "", "", "1"],
        ["2025", "COS", "Formation", "", "", "", "1"],
        ["2026", "COS", "Formation", "", "", "", "1"],
        ["2026", "GC", "VAE", "", "", "", "1"],
        ["2026", "GC", "Formation", "", "", "", "1"],
    ]
    assert [r[-1] for r in pick("validations_partielles")] == ["0", "1", "0", "0", "1"]
    assert pick("certificats_revoques_exclus") == [["", "", "", "", "", "", "1"]]


def test_csv_respects_the_filters(client: TestClient, db: Session, admin) -> None:  # type: ignore[no-untyped-def]
    build_dataset(db)
    response = client.get("/admin/statistiques.csv?du=2025&au=2025&certification=COS")
    assert (
        'filename="statistiques-cqp-cos-du-2025-au-2025.csv"'
        in (response.headers["content-disposition"])
    )
    rows = _csv(response)
    assert {r["annee"] for r in rows} == {"", "2025"}
    assert {r["certification"] for r in rows} == {"", "COS"}
    assert [r["valeur"] for r in rows if r["indicateur"] == "cqp_delivres"] == ["1"]
    assert [r["valeur"] for r in rows if r["indicateur"] == "certificats_revoques_exclus"] == ["0"]


def test_csv_injection_is_neutralised(client: TestClient, db: Session, admin) -> None:  # type: ignore[no-untyped-def]
    data = build_dataset(db, alpha='=HYPERLINK("http://x.example","clic")')
    certificate(db, data.parcours["P1"], "cqp", date(2025, 6, 1))
    rows = _csv(client.get("/admin/statistiques.csv"))
    names = {r["organisme"] for r in rows if r["indicateur"] == "cqp_par_organisme"}
    assert '\'=HYPERLINK("http://x.example","clic")' in names
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("CPAM 1+1=2") == "CPAM 1+1=2"


# --- charts and shaping ------------------------------------------------------------------------


def test_grouped_chart_is_well_formed_accessible_and_proportional() -> None:
    chart = bar_chart(
        "c1",
        "Titre <&>",
        "Description",
        categories=["CPAM <Alpha> & co", "CAF"],
        series=[Series("CQP", (3, 12)), Series("CCP", (6, 0))],
        axis_label="Nombre",
    )
    root = parse_svg(str(chart))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Titre <&>"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Description"  # type: ignore[union-attr]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    widths = [float(b.get("width", "0")) for b in bars]
    assert widths[0] * 4 == pytest.approx(widths[2], abs=0.05)  # 3 and 12
    assert widths[1] * 2 == pytest.approx(widths[0] * 4, abs=0.05)  # 6 and 12
    assert widths[3] == 0
    assert {b.get("fill") for b in bars} == {"url(#c1-p0)", "url(#c1-p1)"}  # patterns
    assert len(root.findall(f".//{SVG}pattern")) == 2
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "CQP" in texts and "CCP" in texts  # the legend names the series
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"] == [
        "3",
        "6",
        "12",
        "0",
    ]
    assert "CPAM <Alpha> & co" in texts


def test_stacked_chart_and_percentages() -> None:
    chart = bar_chart(
        "c2",
        "t",
        "d",
        categories=["2025"],
        series=[Series("VAE", (2,)), Series("Formation", (3,))],
        stacked=True,
    )
    root = parse_svg(str(chart))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert float(bars[0].get("x", "")) + float(bars[0].get("width", "")) == pytest.approx(
        float(bars[1].get("x", ""))
    )
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"] == ["5"]
    rates = parse_svg(
        str(
            bar_chart(
                "c3",
                "t",
                "d",
                categories=["GRU"],
                series=[Series("VAE", (50,))],
                unit=f"{NBSP}%",
                maximum=100,
            )
        )
    )
    bar = next(r for r in rates.iter(f"{SVG}rect") if r.get("class") == "bar")
    ticks = [t.text for t in rates.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert f"100{NBSP}%" in ticks and float(bar.get("width", "")) == pytest.approx(
        454 / 2, abs=0.01
    )
    undecided = parse_svg(
        str(bar_chart("c5", "t", "d", categories=["POS"], series=[Series("Formation", (None,))]))
    )
    assert [t.text for t in undecided.iter(f"{SVG}text") if t.get("class") == "value"] == ["—"]
    assert [r.get("width") for r in undecided.iter(f"{SVG}rect") if r.get("class") == "bar"] == [
        "0"
    ]
    with pytest.raises(ValueError):
        bar_chart("c4", "t", "d", categories=["a", "b"], series=[Series("x", (1,))])


@pytest.mark.parametrize(
    ("largest", "step"), [(1, 1), (5, 1), (6, 2), (11, 5), (26, 10), (100, 20), (700, 200)]
)
def test_nice_step(largest: int, step: int) -> None:
    assert nice_step(largest) == step


def test_top_organisations_and_branches() -> None:
    many = [OrganisationCount(f"Org {i:02d}", "Maladie", 1, i) for i in range(23)]
    top = top_organisations(many)
    assert len(top) == 21 and top[:20] == many[:20]
    assert top[-1] == OrganisationCount("Autres organismes (3)", None, 3, 20 + 21 + 22)
    branches = by_branche([*many[:2], OrganisationCount("Ucanss", None, 0, 4)])
    assert [(b.name, b.cqp, b.ccp) for b in branches] == [
        ("Maladie", 2, 1),
        ("Famille", 0, 0),
        ("Retraite", 0, 0),
        ("Recouvrement", 0, 0),
        ("Non renseignée", 0, 4),
    ]
