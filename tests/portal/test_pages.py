"""The web shell: home, the navigable référentiel, health, errors."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from starlette.testclient import TestClient

from portal.settings import Settings
from vae.referentiel.model import Referentiel


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def links(html: str) -> list[str]:
    return [a["href"] or "" for tag, a in parse(html).tags if tag == "a" and "href" in a]


def test_home_is_french_accessible_and_links_the_referentiel(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = parse(response.text)
    html = next(a for t, a in page.tags if t == "html")
    assert html["lang"] == "fr"
    tags = [t for t, _ in page.tags]
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in tags
    skip = next(a for t, a in page.tags if t == "a" and a.get("class") == "skip-link")
    assert skip["href"] == "#contenu"
    assert any(a.get("id") == "contenu" for t, a in page.tags if t == "main")
    assert "/referentiel" in links(response.text)
    assert response.headers["vary"] == "HX-Request"


def test_referentiel_is_navigable_down_to_every_criterion(
    client: TestClient, referentiel: Referentiel
) -> None:
    index = client.get("/referentiel")
    assert index.status_code == 200
    assert "80%" in index.text and "Le bloc de compétences est validé" in index.text
    cert_links = [h for h in links(index.text) if re.fullmatch(r"/referentiel/RNCP\d+", h)]
    assert sorted(set(cert_links)) == ["/referentiel/RNCP35543", "/referentiel/RNCP35729"]
    seen_criteria = 0
    for cert in referentiel.certifications:
        page = client.get(f"/referentiel/{cert.code}")
        assert page.status_code == 200
        bloc_links = sorted({h for h in links(page.text) if h.count("/") == 3})
        assert bloc_links == sorted(f"/referentiel/{cert.code}/{k}" for k in cert.bloc_keys)
        for href in bloc_links:
            bloc_page = client.get(href)
            assert bloc_page.status_code == 200
            ids = {a.get("id") for t, a in parse(bloc_page.text).tags if t == "li"}
            bloc = cert.bloc(href.rsplit("/", 1)[1]).bloc
            for competence in bloc.competences:
                assert competence.label in bloc_page.text.replace("&#39;", "'")
                for criterion in competence.criteria:
                    assert criterion.key in ids
                    seen_criteria += 1
    assert seen_criteria == 146


def test_shared_bloc_page_says_it_is_shared(client: TestClient) -> None:
    page = client.get("/referentiel/RNCP35543/GRU")
    assert "Bloc commun" in page.text
    assert "/referentiel/RNCP35729/GRU" in links(page.text)
    assert "Bloc commun" not in client.get("/referentiel/RNCP35543/POS").text


def test_unknown_certification_or_bloc_answers_a_french_404(client: TestClient) -> None:
    for path in ("/referentiel/RNCP00000", "/referentiel/RNCP35543/GDU", "/nope"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Page introuvable" in response.text


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(settings) -> None:  # type: ignore[no-untyped-def]
    from portal.app import create_app
    from portal.db import make_engine

    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    with TestClient(create_app(settings, engine=dead)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503


def test_static_htmx_is_vendored(client: TestClient) -> None:
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200
    assert 'version:"2.' in response.text


def test_an_unreachable_database_answers_a_french_503(settings: Settings) -> None:
    """A restart or failover of the database: a French page, no traceback, Retry-After."""
    from portal.app import create_app
    from portal.db import make_engine

    down = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/absente", pool_pre_ping=True)
    app = create_app(settings, engine=down)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/referentiel")
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.text
    assert response.headers["retry-after"] == "5"


def test_template_urls_come_from_the_route_index(settings: Settings) -> None:
    """url() in templates finds a route by name without trying every route; same answers."""
    import pytest
    from jinja2.runtime import new_context
    from starlette.requests import Request
    from starlette.routing import NoMatchFound

    from portal.app import create_app
    from portal.templating import templates

    app = create_app(settings)
    request = Request({"type": "http", "app": app, "method": "GET", "path": "/", "headers": []})
    context = new_context(templates.env, "t", {}, {"request": request})
    url = templates.env.globals["url"]
    for name, params in (
        ("evaluation", {"convocation_id": 7}),  # two routes (GET, POST) share the name
        ("static", {"path": "app.css"}),
        ("verify_code", {"code": "ABCD-EFGH"}),
        ("referentiel_bloc", {"code": "RNCP35543", "key": "POS"}),
    ):
        assert url(context, name, **params) == str(app.url_path_for(name, **params))
    with pytest.raises(NoMatchFound):
        url(context, "nowhere")
