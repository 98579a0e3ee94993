"""The public verification: by code (valid, revoked, unknown, malformed) and by uploaded PDF."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime

import pytest
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.certificates import certificate_path, store_certificate_pdf
from portal.seal import seal_pdf
from portal.settings import Settings
from portal.views.certificates import MAX_UPLOAD, public_holder
from tests.portal.policy_certificates import issue_certificate
from tests.portal.world import World, build_world
from vae.decision.models import Certificate, CertificateKind

REVOKED_AT = datetime(2027, 5, 12, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def certificate(db: Session, settings: Settings, world: World) -> Certificate:
    return issue_certificate(db, settings, world.own, bloc_key="POS")


def _main(html: str) -> str:
    """The page's main content (the CSRF token in the page header varies per response)."""
    match = re.search(r"<main.*?</main>", html, re.S)
    assert match is not None
    return match.group(0)


def _upload(client: TestClient, data: bytes, name: str = "certificat.pdf"):  # type: ignore[no-untyped-def]
    client.get("/verifier")  # the anonymous CSRF cookie
    token = client.cookies.get("csrf") or ""
    files = {"file": (name, data, "application/pdf")}
    return client.post("/verifier", data={"csrf_token": token}, files=files)


def _plain_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Certificat de complaisance")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_public_holder_is_initial_and_surname() -> None:
    assert public_holder("Léa", "Martin") == "L. Martin"
    assert public_holder("jean-pierre", "Durand") == "J.-P. Durand"


# --- by code -------------------------------------------------------------------------------


def test_a_valid_code_shows_what_the_certificate_states(
    client: TestClient, certificate: Certificate
) -> None:
    response = client.get(f"/verifier/{certificate.code}")
    assert response.status_code == 200
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = _main(response.text)
    assert "Certificat valide" in page
    assert "C. Test" in page and "Candidat" not in page  # initial and surname only
    assert "RNCP35543BC03 – Promotion des offres de services" in page
    assert "COS – CQP Conseiller offres de services de la Sécurité sociale (RNCP35543)" in page
    assert "1er mars 2027" in page
    assert "Certificat de compétences professionnelles (CCP)" in page


def test_codes_are_read_whatever_the_case_spaces_and_dashes(
    client: TestClient, certificate: Certificate
) -> None:
    raw = certificate.code.replace("-", "").lower()
    assert "Certificat valide" in client.get(f"/verifier/{raw}").text
    typed = f" {raw[:4]} {raw[4:8]} {raw[8:]} "
    redirected = client.get("/verifier", params={"code": typed}, follow_redirects=False)
    assert redirected.status_code == 303
    assert redirected.headers["location"] == f"/verifier/{certificate.code}"


def test_a_revoked_code_says_so_with_the_date_and_not_the_reason(
    client: TestClient, db: Session, certificate: Certificate
) -> None:
    certificate.revoked_at = REVOKED_AT
    certificate.revoked_reason = "Fraude documentaire"
    db.flush()
    page = _main(client.get(f"/verifier/{certificate.code}").text)
    assert "Certificat révoqué" in page and "12 mai 2027" in page
    assert "Certificat valide" not in page
    assert "Fraude" not in page


@pytest.mark.parametrize(
    "code",
    ["AAAA-BBBB-CCCC-DDDD", "abcd", "0000-0000-0000-0000", "x" * 300, "<script>", "a b", "a/b"],
)
def test_unknown_and_malformed_codes_get_the_same_404(
    client: TestClient, certificate: Certificate, code: str
) -> None:
    reference = client.get("/verifier/AAAA-BBBB-CCCC-EEEE")
    response = client.get(f"/verifier/{code}")
    assert response.status_code == 404
    assert _main(response.text) == _main(reference.text)
    assert "Aucun certificat ne correspond à ce code" in response.text
    via_form = client.get("/verifier", params={"code": code})
    assert via_form.status_code == 404
    assert _main(via_form.text) == _main(reference.text)


def test_the_verification_page_offers_both_forms(client: TestClient) -> None:
    page = client.get("/verifier").text
    assert '<label for="f-code">Code de vérification</label>' in page
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page


# --- by file -------------------------------------------------------------------------------


def test_an_authentic_pdf(client: TestClient, settings: Settings, certificate: Certificate) -> None:
    path = certificate_path(settings, certificate)
    assert path is not None
    response = _upload(client, path.read_bytes())
    assert response.status_code == 200
    page = _main(response.text)
    assert "Certificat authentique" in page and "Certificat valide" in page
    assert "C. Test" in page and "RNCP35543BC03" in page


def test_an_authentic_pdf_of_a_revoked_certificate(
    client: TestClient, db: Session, settings: Settings, certificate: Certificate
) -> None:
    certificate.revoked_at = REVOKED_AT
    db.flush()
    path = certificate_path(settings, certificate)
    assert path is not None
    page = _main(_upload(client, path.read_bytes()).text)
    assert "Certificat authentique" in page and "Certificat révoqué" in page


def test_an_earlier_edition_of_the_file_is_still_recognised(
    client: TestClient, db: Session, settings: Settings, certificate: Certificate
) -> None:
    path = certificate_path(settings, certificate)
    assert path is not None
    earlier = path.read_bytes()
    store_certificate_pdf(settings=settings, certificate=certificate)  # sealed again
    db.flush()
    page = _main(_upload(client, earlier).text)
    assert "Certificat authentique" in page and "édition antérieure" in page


def test_a_tampered_pdf(client: TestClient, settings: Settings, certificate: Certificate) -> None:
    path = certificate_path(settings, certificate)
    assert path is not None
    tampered = path.read_bytes().replace(b"ReportLab", b"ReportLaB", 1)
    page = _main(_upload(client, tampered).text)
    assert "Signature invalide ou document modifié" in page
    assert "Certificat authentique" not in page and "C. Test" not in page


def test_an_appended_update(
    client: TestClient, settings: Settings, certificate: Certificate
) -> None:
    path = certificate_path(settings, certificate)
    assert path is not None
    data = path.read_bytes()
    appended = data + b"\n1 0 obj\n<< /Title (Faux) >>\nendobj\n%%EOF\n"
    page = _main(_upload(client, appended).text)
    assert "Signature invalide ou document modifié" in page


def test_a_pdf_without_seal_and_a_sealed_pdf_that_is_no_certificate(
    client: TestClient, settings: Settings, certificate: Certificate
) -> None:
    unsealed = _main(_upload(client, _plain_pdf()).text)
    assert "Document inconnu" in unsealed and "aucun sceau" in unsealed
    other = seal_pdf(settings, _plain_pdf(), reason="Procès-verbal")  # the platform's, not a CCP
    page = _main(_upload(client, other).text)
    assert "Document inconnu" in page and "Certificat authentique" not in page


def test_a_file_that_is_not_a_pdf(client: TestClient) -> None:
    response = _upload(client, b"<html>not a pdf</html>", name="certificat.pdf")
    assert response.status_code == 400
    assert 'id="file-error"' in response.text
    assert "Ce fichier n'est pas un PDF" in html.unescape(response.text)
    assert 'aria-describedby="file-hint file-error"' in response.text


def test_no_file_and_too_big(client: TestClient) -> None:
    client.get("/verifier")
    token = client.cookies.get("csrf") or ""
    empty = client.post("/verifier", data={"csrf_token": token})
    assert empty.status_code == 400 and "Choisissez le fichier PDF" in empty.text
    too_big = _upload(client, b"%PDF-1.7\n" + b"0" * MAX_UPLOAD)
    assert too_big.status_code == 400 and "dépasse 5 Mo" in too_big.text
    huge = _upload(client, b"%PDF-1.7\n" + b"0" * (MAX_UPLOAD + 200_000))
    assert huge.status_code == 413 and "dépasse 5 Mo" in huge.text


def test_cqp_page(client: TestClient, db: Session, settings: Settings, world: World) -> None:
    cqp = issue_certificate(db, settings, world.own, kind=CertificateKind.CQP, store=False)
    page = _main(client.get(f"/verifier/{cqp.code}").text)
    assert "Certificat de qualification professionnelle (CQP)" in page
    assert "Bloc de compétences" not in page
