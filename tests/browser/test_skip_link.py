"""The skip link: the first Tab reaches it, Enter moves focus into the main content."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect


@pytest.mark.parametrize("path", ["/", "/referentiel/RNCP35543/GRU"], ids=["accueil", "cos-gru"])
def test_skip_link(
    page: Page,
    path: str,
    screenshot: Callable[[Page, str], Path],
    check_page: Callable[[Page, str], None],
) -> None:
    page.goto(path)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # moved on screen when it has focus
    screenshot(page, "lien-evitement-focus")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#contenu$"))
    expect(page.locator("main#contenu")).to_be_focused()
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")  # the next stop is inside the content, past the header
    expect(page.locator("main#contenu :focus")).to_have_count(1)
    check_page(page, "apres-evitement")
