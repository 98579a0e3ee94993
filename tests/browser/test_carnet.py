"""Carnet journeys: a tutor attests and signs, a manager signs with the keyboard only, the
candidate positions themself and sees the progress; the same without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.journey import sign_in
from tests.browser.keyboard import keyboard_only


def _open_carnet(page: Page, candidate: str) -> None:
    page.get_by_role("link", name="Carnets", exact=True).click()
    page.get_by_role("link", name=candidate).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Carnet de suivi des compétences")


def _fill_attestation(page: Page, competence: str, criteria: int) -> None:
    form = page.locator(f"#attest-{competence}")
    form.get_by_label("Date de la situation observée").fill("2026-11-02")
    form.get_by_label("Type de situation").select_option("accueil_telephonique")
    form.get_by_label("Description de la situation").fill(
        "Appel d'une assurée sur le suivi de ses indemnités journalières."
    )
    boxes = form.locator("input[name=observed]")
    for i in range(criteria):
        boxes.nth(i).check()
    form.get_by_label("Maîtrisée").check()


def test_tutor_attests_and_signs_inline(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    sign_in(page, "tuteur.urssaf@demo.cqp.fr")
    _open_carnet(page, "Lucas Petit")
    check_page(page, "carnet-tuteur")
    page.get_by_role("link", name="Attester C2", exact=True).click()  # htmx: the form opens inline
    _fill_attestation(page, "GRU-C2", 5)
    check_page(page, "formulaire-attestation")
    page.get_by_role("button", name="Enregistrer et relire avant de signer").click()
    expect(page.get_by_role("heading", name="Relisez avant de signer")).to_be_visible()
    check_page(page, "relecture")
    page.get_by_role("button", name="Je signe l'attestation").click()
    competence = page.locator("#c-GRU-C2")
    expect(competence.get_by_text("Signature valide")).to_be_visible()
    expect(competence.get_by_text("Attestée par le tuteur seulement")).to_be_visible()
    check_page(page, "carnet-apres-signature")


def test_empty_attestation_shows_errors_next_to_fields(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    sign_in(page, "manager.urssaf@demo.cqp.fr")
    _open_carnet(page, "Lucas Petit")
    page.get_by_role("link", name="Attester C3", exact=True).click()
    page.get_by_role("button", name="Enregistrer et relire avant de signer").click()
    expect(page.locator("#f-GRU-C3-description-error")).to_have_text(
        "Décrivez brièvement la situation observée."
    )
    check_page(page, "attestation-erreurs")


def test_manager_signs_with_the_keyboard_only(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    sign_in(page, "manager.carsat@demo.cqp.fr")
    _open_carnet(page, "Sandrine Morvan")
    page.goto(page.url.split("#")[0] + "/GRU-C5/attester")  # the full-page form
    with keyboard_only(page) as keys:
        keys.tab_to(page.get_by_label("Date de la situation observée"))
        keys.type("02112026")
        keys.tab_to(page.get_by_label("Type de situation"))
        keys.press("ArrowDown")
        keys.tab_to(page.get_by_label("Description de la situation"))
        keys.type("Traçabilité d'un échange avec une assurée dans l'outil dédié.")
        for i in range(1, 5):
            keys.tab_to(page.locator(f"#f-GRU-C5-GRU-C5-{i}"))
            keys.press("Space")
        keys.tab_to(page.get_by_label("Maîtrisée"))
        keys.press("Space")
        keys.activate(page.get_by_role("button", name="Enregistrer et relire avant de signer"))
        expect(page.get_by_role("heading", name="Relisez avant de signer")).to_be_visible()
        keys.activate(page.get_by_role("button", name="Je signe l'attestation"))
        expect(page.locator("#c-GRU-C5").get_by_text("Signature valide")).to_be_visible()
    check_page(page, "signature-clavier")


def test_candidate_positions_themself_and_sees_progress(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    sign_in(page, "candidat.gc.formation@demo.cqp.fr")
    page.get_by_role("link", name="Mon carnet de suivi").click()
    expect(page.get_by_role("heading", name="Progression par bloc")).to_be_visible()
    self_form = page.locator("#self-GRU-C1")
    self_form.get_by_label("En cours").check()
    self_form.get_by_label("Commentaire sur C1").fill("À consolider sur les rebonds.")
    self_form.get_by_role("button", name="Enregistrer le pré-positionnement C1").click()
    expect(page.locator("#self-GRU-C1").get_by_role("status")).to_have_text(
        "Pré-positionnement enregistré."
    )
    check_page(page, "carnet-candidat")


def test_self_positioning_and_attestation_without_javascript(
    nojs_page: Page, check_page: Callable[[Page, str], None]
) -> None:
    page = nojs_page
    sign_in(page, "tuteur.carsat@demo.cqp.fr")
    _open_carnet(page, "Sandrine Morvan")
    page.get_by_role("link", name="Attester C1", exact=True).click()  # plain link: full page
    expect(page.get_by_role("heading", level=1)).to_have_text("Attester la compétence C1")
    _fill_attestation(page, "GRU-C1", 4)
    page.get_by_role("button", name="Enregistrer et relire avant de signer").click()
    page.get_by_role("button", name="Je signe l'attestation").click()
    expect(page.locator("#c-GRU-C1").get_by_text("Signature valide")).to_be_visible()
    check_page(page, "carnet-sans-js")
