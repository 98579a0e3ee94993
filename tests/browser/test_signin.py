"""Sign-in journeys: every demo role, a wrong password, no JavaScript, keyboard only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.journey import DEMO_PASSWORD
from tests.browser.keyboard import keyboard_only

ROLES = [
    ("candidat.cos.vae@demo.cqp.fr", "Bonjour Mehdi", "Mon parcours de certification"),
    ("tuteur.cpam@demo.cqp.fr", "Bonjour Camille", "Candidats que je suis"),
    ("manager.urssaf@demo.cqp.fr", "Bonjour Franck", "Candidats que je suis"),
    ("referent.carsat@demo.cqp.fr", "Bonjour Yannick", "Parcours"),
    ("presidente@demo.cqp.fr", "Bonjour Hélène", "Prochaines sessions de jury"),
    ("jury.salarie@demo.cqp.fr", "Bonjour Martine", "Prochaines sessions de jury"),
    ("admin@demo.cqp.fr", "Bonjour Claire", "Parcours"),
]


def _sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.parametrize(
    ("email", "greeting", "section"), ROLES, ids=[r[0].split("@")[0] for r in ROLES]
)
def test_sign_in_per_role(
    page: Page, check_page: Callable[[Page, str], None], email: str, greeting: str, section: str
) -> None:
    page.goto("/")
    page.get_by_role("link", name="Se connecter").click()
    check_page(page, "connexion")
    _sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text(greeting)
    expect(page.get_by_role("heading", name=section)).to_be_visible()
    check_page(page, "tableau-de-bord")
    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", name="Sessions ouvertes")).to_be_visible()
    check_page(page, "mon-compte")
    page.get_by_role("button", name="Se déconnecter", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")


def test_wrong_password_shows_the_error_next_to_the_field(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    _sign_in(page, "admin@demo.cqp.fr", "pas le bon mot de passe")
    field = page.get_by_label("Adresse électronique")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_have_text(
        "Adresse électronique ou mot de passe incorrect."
    )
    check_page(page, "connexion-erreur")


def test_sign_in_without_javascript(
    nojs_page: Page, check_page: Callable[[Page, str], None]
) -> None:
    _sign_in(nojs_page, "admin@demo.cqp.fr")
    expect(nojs_page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    nojs_page.get_by_role("link", name="Comptes").click()
    expect(nojs_page.get_by_role("heading", level=1)).to_have_text("Comptes")
    check_page(nojs_page, "comptes-sans-js")


def test_sign_in_with_the_keyboard_only(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    page.goto("/connexion")
    with keyboard_only(page) as keys:
        keys.tab_to(page.get_by_label("Adresse électronique"))
        keys.type("tuteur.caf@demo.cqp.fr")
        keys.tab_to(page.get_by_label("Mot de passe"))
        keys.type(DEMO_PASSWORD)
        keys.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Hugo")
        keys.activate(page.get_by_role("link", name="Mehdi Bouaziz", exact=True))
        expect(page.get_by_role("heading", level=1)).to_have_text("Parcours de Mehdi Bouaziz")
    check_page(page, "parcours-clavier")
