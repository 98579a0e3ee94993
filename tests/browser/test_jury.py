"""Jury journey: an administrator plans a session, is refused an illegal member with the rule,
composes the jury and convenes a candidate whose livret is submitted; the présidente then finds
the candidate in her session."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.journey import sign_in


def test_administrator_builds_a_session_and_convenes(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    sign_in(page, "admin@demo.cqp.fr")
    page.get_by_role("link", name="Jurys", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions de jury")
    page.get_by_label("Date").fill("2027-03-09")
    page.get_by_label("Lieu").fill("Institut 4.10, Paris")
    page.get_by_role("button", name="Planifier").click()
    expect(page.locator("#day-error")).to_contain_text("février, avril, juin, octobre, décembre")
    check_page(page, "session-refusee")
    page.get_by_label("Date").fill("2027-04-08")
    page.get_by_role("button", name="Planifier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jury professionnel du 8 avril 2027")

    page.get_by_label("Membre de jury").select_option(
        label="Karim Benali – CPAM du Nord (formé le 12 mars 2026)"
    )
    page.get_by_label("Qualité").select_option("president")
    page.get_by_role("button", name="Affecter").click()
    expect(page.get_by_role("alert").first).to_contain_text("Karim Benali ne peut pas présider")
    check_page(page, "membre-refuse")
    for name, quality in (
        ("Hélène Marchal – Ucanss", "president"),
        ("Thomas Girard – URSSAF Bretagne", "expert"),
    ):
        page.get_by_label("Membre de jury").select_option(label=f"{name} (formé le 12 mars 2026)")
        page.get_by_label("Qualité").select_option(quality)
        page.get_by_role("button", name="Affecter").click()
    expect(page.get_by_text("Toutes les règles de composition sont respectées.")).to_be_visible()

    page.get_by_label("Candidat", exact=True).select_option(
        label="Julie Fabre – GC VAE – URSSAF Île-de-France"
    )
    page.get_by_label("Heure de passage").fill("10:15")
    page.get_by_role("button", name="Convoquer").click()
    expect(page.get_by_role("link", name="Julie Fabre", exact=True)).to_be_visible()
    page.get_by_label("Candidat", exact=True).select_option(
        label="Léa Martin – COS formation – CPAM de la Gironde"
    )
    page.get_by_role("button", name="Convoquer").click()
    expect(page.locator("#parcours-error")).to_contain_text(
        "carnet de suivi de Léa Martin n'est pas complet"
    )
    check_page(page, "session-composee")

    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, "presidente@demo.cqp.fr")
    page.get_by_role("link", name="Jurys", exact=True).click()
    page.get_by_role("link", name="8 avril 2027").click()
    expect(page.get_by_role("link", name="Julie Fabre", exact=True)).to_be_visible()
    check_page(page, "session-presidente")
    page.get_by_role("link", name="dossier d'entretien de Julie Fabre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier d'entretien")
    expect(page.get_by_role("main")).to_contain_text("Julie Fabre")
    check_page(page, "dossier-entretien")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le dossier complet").click()
    pdf = PdfReader(download.value.path())
    titles = [item.title for item in pdf.outline if not isinstance(item, list)]
    assert len(pdf.pages) > 5 and titles, titles
