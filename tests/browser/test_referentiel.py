"""Browsing the public référentiel as a person would: links, the shared bloc, the breadcrumb."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.keyboard import keyboard_only
from vae.referentiel import loader
from vae.referentiel.model import Referentiel

CheckPage = Callable[[Page, str], None]


@pytest.fixture(scope="module")
def referentiel() -> Referentiel:
    """The shipped data: what `vae-portal referentiel load` put in the server's database."""
    return loader.load()


def breadcrumb(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Fil d'Ariane")


def criteria_keys(page: Page) -> list[str]:
    return page.locator("ol.criteria > li").evaluate_all("(items) => items.map((li) => li.id)")


def expect_bloc_page(page: Page, referentiel: Referentiel, cert_short: str, key: str) -> None:
    """The bloc page shows every competence of the bloc with all its criteria."""
    cert = referentiel.certification(cert_short)
    cert_bloc = cert.bloc(key)
    expect(page).to_have_url(re.compile(rf"/referentiel/{cert.code}/{key}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{cert_bloc.code} – {cert_bloc.title}"
    )
    for competence in cert_bloc.bloc.competences:
        section = page.get_by_role("region", name=f"{competence.number} – {competence.label}")
        expect(section).to_be_visible()
        items = section.locator("ol.criteria > li")
        expect(items).to_have_count(len(competence.criteria))
        expect(items.first).to_be_visible()
        expect(items.first).to_have_text(competence.criteria[0].label)
    expect(page.locator("ol.criteria > li")).to_have_count(cert_bloc.bloc.criteria_count)
    current = breadcrumb(page).get_by_role("link", name=key, exact=True)
    expect(current).to_have_attribute("aria-current", "page")


def test_browse_referentiel(page: Page, check_page: CheckPage, referentiel: Referentiel) -> None:
    cos, gc = referentiel.certification("COS"), referentiel.certification("GC")
    page.goto("/")
    check_page(page, "accueil")

    page.get_by_role("link", name="Consulter le référentiel").click()
    expect(page).to_have_url(re.compile(r"/referentiel$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Référentiel des CQP")
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Référentiel")).to_have_attribute("aria-current", "page")
    check_page(page, "referentiel")

    page.get_by_role("heading", level=2).get_by_role("link", name=cos.title).click()
    expect(page).to_have_url(re.compile(rf"/referentiel/{cos.code}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(cos.title)
    expect(page.locator("ol.bloc-list > li")).to_have_count(len(cos.blocs))
    check_page(page, "cos")

    gru = cos.bloc("GRU")
    page.get_by_role("link", name=f"{gru.code} – {gru.title}").click()
    expect_bloc_page(page, referentiel, "COS", "GRU")
    cos_criteria = criteria_keys(page)
    check_page(page, "cos-gru")

    notice = page.locator("p.notice")
    expect(notice).to_contain_text("Bloc commun")
    notice.get_by_role("link", name=gc.title).click()
    expect_bloc_page(page, referentiel, "GC", "GRU")
    assert criteria_keys(page) == cos_criteria, "a shared bloc has the same criteria in both CQPs"
    check_page(page, "gc-gru")

    breadcrumb(page).get_by_role("link", name="GC", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/referentiel/{gc.code}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(gc.title)
    check_page(page, "gc")

    breadcrumb(page).get_by_role("link", name="Référentiel", exact=True).click()
    expect(page).to_have_url(re.compile(r"/referentiel$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Référentiel des CQP")
    check_page(page, "referentiel-retour")


def test_browse_referentiel_with_the_keyboard_only(
    page: Page, check_page: CheckPage, referentiel: Referentiel
) -> None:
    cos, gc = referentiel.certification("COS"), referentiel.certification("GC")
    mdr = cos.bloc("MDR")
    page.goto("/")
    with keyboard_only(page) as kb:
        kb.activate(page.get_by_role("link", name="Consulter le référentiel"))
        expect(page).to_have_url(re.compile(r"/referentiel$"))
        check_page(page, "referentiel")
        kb.activate(page.get_by_role("heading", level=2).get_by_role("link", name=cos.title))
        expect(page).to_have_url(re.compile(rf"/referentiel/{cos.code}$"))
        check_page(page, "cos")
        kb.activate(page.get_by_role("link", name=f"{mdr.code} – {mdr.title}"))
        expect_bloc_page(page, referentiel, "COS", "MDR")
        check_page(page, "cos-mdr")
        kb.activate(page.locator("p.notice").get_by_role("link", name=gc.title))
        expect_bloc_page(page, referentiel, "GC", "MDR")
        check_page(page, "gc-mdr")
        kb.activate(breadcrumb(page).get_by_role("link", name="GC", exact=True))
        expect(page).to_have_url(re.compile(rf"/referentiel/{gc.code}$"))
        check_page(page, "gc")


def test_browse_referentiel_without_javascript(
    nojs_page: Page, check_page: CheckPage, referentiel: Referentiel
) -> None:
    page = nojs_page
    cos, gc = referentiel.certification("COS"), referentiel.certification("GC")
    page.goto("/")
    assert page.evaluate("() => typeof window.htmx") == "undefined", "JavaScript should be off"
    check_page(page, "accueil")

    page.get_by_role("link", name="Consulter le référentiel").click()
    expect(page).to_have_url(re.compile(r"/referentiel$"))
    check_page(page, "referentiel")

    gdu = gc.bloc("GDU")
    page.get_by_role("link", name=f"{gdu.code} – {gdu.title}").click()
    expect_bloc_page(page, referentiel, "GC", "GDU")
    expect(page.locator("p.notice")).to_have_count(0)  # GDU belongs to GC alone
    check_page(page, "gc-gdu")

    breadcrumb(page).get_by_role("link", name="GC", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/referentiel/{gc.code}$"))
    check_page(page, "gc")
    mdr = gc.bloc("MDR")
    page.get_by_role("link", name=f"{mdr.code} – {mdr.title}").click()
    expect_bloc_page(page, referentiel, "GC", "MDR")
    page.locator("p.notice").get_by_role("link", name=cos.title).click()
    expect_bloc_page(page, referentiel, "COS", "MDR")
    check_page(page, "cos-mdr")
