"""Enrolment journeys: a référent opens a parcours from the dashboard (errors first, htmx
refresh of the held blocs), and an administrator does it without JavaScript.

The référent enrols Léa Martin (CPAM de la Gironde, already on a COS parcours) on GC; the
administrator enrols Julie Fabre (URSSAF Île-de-France, already on a GC parcours) on COS: one
open parcours per candidate and CQP.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.journey import sign_in

LEA = "Léa Martin – Conseillère offres de services"
JULIE = "Julie Fabre – Gestionnaire du recouvrement"
COS = "RNCP35543"
GC = "RNCP35729"


def _open_form(page: Page, check_page: Callable[[Page, str], None]) -> None:
    check_page(page, "tableau-de-bord")
    page.get_by_role("link", name="Ouvrir un parcours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ouvrir un parcours")
    check_page(page, "formulaire")


def _submit(page: Page) -> None:
    page.get_by_role("button", name="Ouvrir le parcours").click()


def test_referent_enrols_a_candidate(page: Page, check_page: Callable[[Page, str], None]) -> None:
    sign_in(page, "referent.cpam@demo.cqp.fr")
    _open_form(page, check_page)
    expect(page.get_by_text("Organisme employeur : CPAM de la Gironde")).to_be_visible()

    _submit(page)  # empty: an error next to every field, and a summary
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient 6 erreurs")
    expect(page.locator("#candidate-error")).to_have_text("Choisissez le candidat.")
    expect(page.get_by_role("combobox", name="Candidat", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator("#route-error")).to_have_text("Choisissez la voie : formation ou VAE.")
    expect(page.locator("#start_date-error")).to_have_text("Indiquez la date de début du parcours.")
    check_page(page, "formulaire-erreurs")

    page.get_by_role("combobox", name="Candidat", exact=True).select_option(label=LEA)
    page.get_by_role("combobox", name="Tuteur", exact=True).select_option(
        label="Camille Noël – Conseillère experte"
    )
    page.get_by_role("combobox", name="Manager", exact=True).select_option(
        label="Julien Perrin – Responsable accueil"
    )
    expect(page.locator("input[name=held-COS]")).to_have_count(4)  # every list, before a choice
    page.get_by_role("combobox", name="Certification", exact=True).select_option(GC)
    # htmx: the held blocs are now those of the GC certification only.
    expect(page.locator("input[name=held-COS]")).to_have_count(0)
    expect(page.locator("input[name=held-GC]")).to_have_count(3)
    page.get_by_label(
        "Formation : observation en situation de travail et jury professionnel"
    ).check()
    page.get_by_label("Date de début du parcours").fill("2026-11-02")
    gru = page.locator("fieldset", has=page.locator("#f-held-GC-GRU")).last
    gru.get_by_label("Bloc déjà détenu").check()
    gru.get_by_label("Origine").fill("Bloc GRU du CQP Conseiller offres de services")
    check_page(page, "formulaire-rempli")
    _submit(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Parcours de Léa Martin")
    expect(page.get_by_text("CQP Gestionnaire conseil de la Sécurité sociale")).to_be_visible()
    expect(page.get_by_text("Bloc GRU du CQP Conseiller offres de services")).to_be_visible()
    check_page(page, "parcours-ouvert")


def test_administrator_enrols_without_javascript(
    nojs_page: Page, check_page: Callable[[Page, str], None]
) -> None:
    page = nojs_page
    sign_in(page, "admin@demo.cqp.fr")
    _open_form(page, check_page)
    page.get_by_role("combobox", name="Organisme employeur").select_option(
        label="URSSAF Île-de-France"
    )
    page.get_by_role("combobox", name="Candidat", exact=True).select_option(label=JULIE)
    page.get_by_role("combobox", name="Tuteur", exact=True).select_option(
        label="Émilie Robin – Gestionnaire experte"
    )
    page.get_by_role("combobox", name="Manager", exact=True).select_option(
        label="Franck Chevalier – Manager de proximité"
    )
    page.get_by_role("combobox", name="Certification", exact=True).select_option(COS)
    page.get_by_label("VAE : livret 2 et entretien de 45 minutes avec le jury").check()
    page.get_by_label("Date de début du parcours").fill("2026-12-07")
    # Without JavaScript both lists stay on the page: a bloc ticked in the GC list is refused
    # with a message rather than silently dropped.
    page.locator("#f-held-GC-MDR").check()
    page.locator("#f-origin-GC-MDR").fill("CCP obtenu en 2024")
    _submit(page)
    expect(page.locator("#held_blocs-error")).to_contain_text(
        "Des blocs sont cochés dans la liste du CQP GC"
    )
    expect(page.get_by_label("Date de début du parcours")).to_have_value("2026-12-07")
    check_page(page, "formulaire-erreur-sans-js")

    page.locator("#f-held-GC-MDR").uncheck()
    page.locator("#f-origin-GC-MDR").fill("")
    page.locator("#f-held-COS-MDR").check()
    page.locator("#f-origin-COS-MDR").fill("CCP obtenu en 2024")
    page.locator("#f-obtained-COS-MDR").fill("2024-06-14")
    _submit(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Parcours de Julie Fabre")
    expect(page.get_by_text("VAE", exact=True)).to_be_visible()
    expect(page.get_by_text("CCP obtenu en 2024")).to_be_visible()
    check_page(page, "parcours-ouvert-sans-js")
