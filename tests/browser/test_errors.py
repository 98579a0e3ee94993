"""Error pages: a 404 is a full, accessible page with a way back."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect


@pytest.mark.parametrize(
    "path",
    ["/nulle-part", "/referentiel/RNCP00000", "/referentiel/RNCP35543/GDU"],
    ids=["adresse-inconnue", "certification-inconnue", "bloc-hors-certification"],
)
def test_not_found(page: Page, path: str, check_page: Callable[[Page, str], None]) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 404
    expect(page).to_have_title(re.compile(r"^Page introuvable – "))
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_role("main")).to_contain_text("La page demandée n'existe pas")
    check_page(page, "404")

    page.get_by_role("link", name="Revenir à l'accueil").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Certifications CQP de la Sécurité sociale"
    )
    check_page(page, "accueil")
