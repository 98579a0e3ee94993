"""Livret journeys: the candidate writes situations (autosave), fills the career data, watches
the coverage fill in, signs the sworn statement and submits; the same without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from reportlab.pdfgen.canvas import Canvas

from tests.browser.journey import sign_in


def _write_situation(page: Page, bloc: str, title: str, *, autosave: bool) -> None:
    page.get_by_role("button", name=f"Ajouter une situation au bloc {bloc}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Situation significative – bloc {bloc}"
    )
    page.get_by_label("Titre de la situation").fill(title)
    page.get_by_label("Organisme et service").fill("CAF du Rhône, plateforme de services")
    page.get_by_label("Du", exact=True).fill("2026-03-02")
    page.get_by_label("Au", exact=True).fill("2026-04-30")
    page.get_by_label("Contexte", exact=True).fill(
        "Des allocataires perdus dans leurs démarches en ligne."
    )
    page.get_by_label("Ce que j'ai fait", exact=True).fill(
        "J'ai identifié leur profil, présenté les services en ligne et accompagné la prise en "
        "main pas à pas, puis orienté vers le partenaire compétent quand il le fallait."
    )
    page.get_by_label("Résultat", exact=True).fill(
        "Les démarches ont été faites en ligne dès la semaine suivante."
    )
    for box in page.locator("input[name=competence_keys]").all():
        box.check()
    if autosave:
        expect(page.locator("#save-status")).to_contain_text("Dernier enregistrement à")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Situation enregistrée.")


def _annex_files(folder: Path) -> tuple[Path, Path]:
    good = folder / "courriel-anonymise.pdf"
    canvas = Canvas(str(good))
    canvas.drawString(72, 720, "Courriel anonymisé adressé à un allocataire")
    canvas.showPage()
    canvas.save()
    bad = folder / "page-web.pdf"
    bad.write_text("<html><body>pas un PDF</body></html>", encoding="utf-8")
    return good, bad


def test_candidate_writes_and_submits_the_livret(
    page: Page, check_page: Callable[[Page, str], None], tmp_path: Path
) -> None:
    sign_in(page, "candidat.cos.vae@demo.cqp.fr")  # holds GRU and MDR: POS and TD to write
    page.get_by_role("link", name="Mon livret 2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Livret 2 de VAE")
    check_page(page, "livret-vide")
    _write_situation(
        page, "POS", "Accompagner des allocataires vers les services en ligne", autosave=True
    )
    check_page(page, "situation-pos")
    good, bad = _annex_files(tmp_path)
    page.get_by_label("Joindre une annexe").set_input_files(str(bad))
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.get_by_text("Ce fichier n'est pas un PDF, c'est une page web HTML")).to_be_visible()
    check_page(page, "annexe-refusee")
    page.get_by_label("Joindre une annexe").set_input_files(str(good))
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.get_by_role("link", name="courriel-anonymise.pdf")).to_be_visible()
    check_page(page, "annexe-jointe")
    expect(page.locator("#coverage")).to_contain_text(
        "Vos situations montrent 3 compétence(s) sur 3"
    )
    page.get_by_role("link", name="Revenir au livret").click()
    _write_situation(page, "TD", "Fiabiliser des données de dossiers allocataires", autosave=True)
    page.get_by_role("link", name="Revenir au livret").click()
    page.get_by_role("link", name="Identité et parcours professionnel").click()
    page.get_by_label("Emploi actuel").fill("Conseiller offres de services")
    page.get_by_label("Emploi (ligne 1)").fill("Conseiller offres de services")
    page.get_by_label("Employeur (ligne 1)").fill("CAF du Rhône")
    page.get_by_label("Du (ligne 1)").fill("2018-09-01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Informations enregistrées.")
    check_page(page, "identite-parcours")
    page.get_by_role("link", name="Livret 2").first.click()
    page.get_by_label("Je déclare sur l'honneur").check()
    page.get_by_role("button", name="Signer et soumettre mon livret").click()
    expect(page.get_by_role("status")).to_contain_text("Votre livret est signé et soumis")
    expect(page.get_by_role("button", name="Ajouter une situation au bloc POS")).to_have_count(0)
    check_page(page, "livret-soumis")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le livret (PDF)").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")


def test_livret_without_javascript(
    nojs_page: Page, check_page: Callable[[Page, str], None]
) -> None:
    page = nojs_page
    sign_in(page, "candidat.gc.vae@demo.cqp.fr")
    page.get_by_role("link", name="Mon livret 2").click()
    _write_situation(page, "GDU", "Reconstituer une carrière incomplète", autosave=False)
    expect(page.locator("#coverage")).to_contain_text(
        "Vos situations montrent 5 compétence(s) sur 5"
    )
    check_page(page, "situation-sans-js")
