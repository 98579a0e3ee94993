"""The public home page."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect


def test_home_page(page: Page, check_page: Callable[[Page, str], None]) -> None:
    response = page.goto("/")
    assert response is not None and response.status == 200
    expect(page).to_have_title(re.compile(r"^Accueil – Certifications CQP de la Sécurité sociale"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Certifications CQP de la Sécurité sociale"
    )
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Accueil")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Consulter le référentiel")).to_be_visible()
    expect(page.get_by_role("main")).to_have_attribute("id", "contenu")
    check_page(page, "accueil")
