"""The RGPD export from the browser: from "Mon compte" to the zip, accessible, keyboard only."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.journey import sign_in
from tests.browser.keyboard import keyboard_only


def test_candidate_downloads_their_data(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    sign_in(page, "candidat.cos.vae@demo.cqp.fr")
    page.get_by_role("link", name="Mon compte").click()
    page.get_by_role("link", name="Mes données personnelles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données personnelles")
    check_page(page, "mes-donnees")
    with keyboard_only(page) as keys:
        button = page.get_by_role("button", name="Télécharger mes données (zip)")
        keys.tab_to(button)
        with page.expect_download() as info:
            keys.press("Enter")
    download = info.value
    assert download.suggested_filename.startswith("mes-donnees-cqp-")
    with zipfile.ZipFile(download.path()) as archive:
        profile = json.loads(archive.read("profil.json"))
        assert profile["courriel"] == "candidat.cos.vae@demo.cqp.fr"
        assert any(n.endswith("/livret.pdf") for n in archive.namelist())
