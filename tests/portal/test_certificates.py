"""Issued certificates: codes, the sealed PDF, downloads, revocation, the holder's list."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import segno
import uvicorn
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.testclient import TestClient

from portal import cli
from portal import settings as settings_module
from portal.certificates import (
    CODE_ALPHABET,
    certificate_path,
    new_code,
    normalise_code,
    sha256,
    store_certificate_pdf,
    verification_url,
)
from portal.pdf.certificate import QR_SIZE, qr_modules
from portal.seal import verify_pdf
from portal.settings import Settings, load_settings
from portal.templating import templates
from tests.portal.policy_certificates import issue_certificate
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.decision import certificates as service
from vae.decision.models import Certificate, CertificateKind
from vae.jury.models import JurySession, SessionKind

NOW = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def _audit(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _text(data: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())


# --- codes ---------------------------------------------------------------------------------


def test_codes_are_grouped_unambiguous_and_unique() -> None:
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
        assert not set(code.replace("-", "")) & set("01OIL")
        assert set(code.replace("-", "")) <= set(CODE_ALPHABET)


def test_typed_codes_are_normalised() -> None:
    code = new_code()
    raw = code.replace("-", "")
    assert normalise_code(code) == code
    assert normalise_code(raw.lower()) == code
    assert normalise_code(f"  {raw[:4]} {raw[4:8]}-{raw[8:12]}  {raw[12:]} ") == code
    assert normalise_code(raw[:-1]) is None  # too short
    assert normalise_code(raw + "A") is None  # too long
    assert normalise_code("O" + raw[1:]) is None  # not in the alphabet
    assert normalise_code("A" * 10_000) is None  # bounded before any work


# --- the PDF -------------------------------------------------------------------------------


def test_ccp_pdf_states_holder_bloc_code_and_verification_url(
    db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own, bloc_key="POS")
    path = certificate_path(settings, certificate)
    assert path is not None and path.parent == settings.data_dir / "certificates"
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", certificate.pdf_file or "")
    data = path.read_bytes()
    assert certificate.pdf_sha256 == sha256(data)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    text = _text(data)
    url = verification_url(settings, certificate.code)
    assert "Certificat de compétences professionnelles (CCP)" in text
    assert "Candidat Test" in text
    assert "RNCP35543BC03" in text and "Promotion des offres de services" in text
    assert "(RNCP35543, niveau 4)" in text
    assert "validation des acquis de l'expérience (VAE)" in text
    assert "Délivré par la CPNEFP du Régime général de Sécurité sociale, jury paritaire" in text
    assert "le 1er mars 2027" in text
    assert f"Code de vérification : {certificate.code}" in text
    assert f"Vérifiez l'authenticité de ce certificat : {url}" in text
    check = verify_pdf(settings, data)
    assert check.valid, check.message


def test_the_qr_code_opens_the_verification_page(
    db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own)
    url = verification_url(settings, certificate.code)
    assert url == f"{settings.base_url}/verifier/{certificate.code}"
    # the drawn modules are exactly segno's matrix for the URL
    matrix = segno.make(url, error="m", micro=False).matrix
    dark = {(c, r) for r, line in enumerate(matrix) for c, v in enumerate(line) if v}
    assert set(qr_modules(url)) == dark
    # the QR code is also a link to the same URL, over the square it occupies
    page = PdfReader(io.BytesIO(certificate_path(settings, certificate).read_bytes())).pages[0]
    links = [a.get_object() for a in page.get("/Annots", [])]
    uris = [(a["/A"]["/URI"], a["/Rect"]) for a in links if a.get("/Subtype") == "/Link"]
    squares = [r for uri, r in uris if uri == url and abs(float(r[2]) - float(r[0]) - QR_SIZE) < 1]
    assert squares, uris


def test_cqp_pdf_names_the_national_session(db: Session, settings: Settings, world: World) -> None:
    national = JurySession(
        kind=SessionKind.NATIONAL.value, day=date(2027, 2, 24), place="Paris", capacity=50
    )
    db.add(national)
    db.flush()
    certificate = issue_certificate(
        db, settings, world.own, kind=CertificateKind.CQP, national_session_id=national.id
    )
    text = _text(certificate_path(settings, certificate).read_bytes())
    assert "Certificat de qualification professionnelle (CQP)" in text
    assert "CQP Conseiller offres de services de la Sécurité sociale" in text
    assert "RNCP35543, niveau 4" in text
    assert "lors de la session nationale du 24 février 2027, le 1er mars 2027" in text
    assert "BC0" not in text


# --- downloads -----------------------------------------------------------------------------


def test_the_holder_downloads_the_sealed_pdf(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own)
    sign_in_as(client, db, settings, world.people["candidat"])
    response = client.get(f"/certificats/{certificate.id}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="CCP-RNCP35543BC03-Test.pdf"'
    )
    assert response.content == certificate_path(settings, certificate).read_bytes()
    (entry,) = _audit(db, "certificate.download")
    assert entry.object_id == str(certificate.id) and entry.outcome == "ok"
    assert entry.subject_id == world.people["candidat"].id


def test_another_candidate_gets_404_and_an_admin_200(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own)
    sign_in_as(client, db, settings, world.people["other_candidat"])
    assert client.get(f"/certificats/{certificate.id}.pdf").status_code == 404
    assert client.get(f"/certificats/{certificate.id}/badge.json").status_code == 404
    assert client.get("/certificats/999999.pdf").status_code == 404
    sign_in_as(client, db, settings, world.people["admin"])
    assert client.get(f"/certificats/{certificate.id}.pdf").status_code == 200


def test_an_altered_file_is_not_served(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own)
    path = certificate_path(settings, certificate)
    assert path is not None
    path.write_bytes(path.read_bytes() + b"\n% altered\n")
    sign_in_as(client, db, settings, world.people["candidat"])
    response = client.get(f"/certificats/{certificate.id}.pdf")
    assert response.status_code == 500
    assert "altéré sur le serveur" in response.text
    assert "application/pdf" not in response.headers["content-type"]
    (entry,) = _audit(db, "certificate.download")
    assert entry.outcome == "altered"


def test_a_lost_file_is_sealed_again(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own)
    old_path = certificate_path(settings, certificate)
    assert old_path is not None
    old_path.unlink()
    sign_in_as(client, db, settings, world.people["candidat"])
    response = client.get(f"/certificats/{certificate.id}.pdf")
    assert response.status_code == 200
    db.refresh(certificate)
    new_path = certificate_path(settings, certificate)
    assert new_path is not None and new_path.read_bytes() == response.content
    assert certificate.pdf_sha256 == sha256(response.content)
    assert verify_pdf(settings, response.content).valid
    assert len(_audit(db, "certificate.pdf_regenerated")) == 1


# --- revocation ----------------------------------------------------------------------------


def test_revoke_needs_a_reason_and_happens_once(
    db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own, store=False)
    admin = world.people["admin"]
    actor = Actor(admin.id, admin.full_name)
    for reason in ("", "   ", "trop court"[:9]):
        with pytest.raises(service.CertificateError) as refused:
            service.revoke(session=db, actor=actor, certificate=certificate, reason=reason, now=NOW)
        assert refused.value.field == "reason"
        assert "10 caractères au moins" in refused.value.message
    assert certificate.revoked_at is None
    service.revoke(
        session=db,
        actor=actor,
        certificate=certificate,
        reason="Fraude constatée au dossier",
        now=NOW,
    )
    assert certificate.revoked and certificate.revoked_by_id == admin.id
    assert certificate.revoked_reason == "Fraude constatée au dossier"
    (entry,) = _audit(db, "certificate.revoke")
    assert entry.details["reason"] == "Fraude constatée au dossier"
    assert entry.subject_id == certificate.holder_id
    with pytest.raises(service.AlreadyRevoked) as again:
        service.revoke(
            session=db, actor=actor, certificate=certificate, reason="Une seconde fois", now=NOW
        )
    assert again.value.message == (
        "Ce certificat a déjà été révoqué le 2 mars 2027 à 10:30 par Admin Test : "
        "rien n'a été modifié."
    )
    assert certificate.revoked_reason == "Fraude constatée au dossier"
    assert len(_audit(db, "certificate.revoke")) == 1


def test_admin_revokes_through_the_form(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own, store=False)
    token = sign_in_as(client, db, settings, world.people["admin"])
    url = f"/admin/certificats/{certificate.id}"
    page = client.get(url)
    assert page.status_code == 200 and "Révoquer ce certificat" in page.text
    refused = client.post(url, data={"csrf_token": token, "reason": "court"})
    assert refused.status_code == 400
    assert 'id="reason-error"' in refused.text and "10 caractères au moins" in refused.text
    assert 'aria-describedby="reason-hint reason-error"' in refused.text
    assert ">court</textarea>" in refused.text  # what was typed is kept
    done = client.post(
        url,
        data={"csrf_token": token, "reason": "Erreur de saisie du jury"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.refresh(certificate)
    assert certificate.revoked
    shown = client.get(done.headers["location"]).text
    assert "Le certificat est révoqué" in shown
    assert "Erreur de saisie du jury" in shown and "Admin Test" in shown
    public = client.get(f"/verifier/{certificate.code}").text
    assert "Certificat révoqué" in public and "Erreur de saisie" not in public


def test_admin_list_searches_and_pages(
    client: TestClient, db: Session, settings: Settings, world: World
) -> None:
    first = issue_certificate(db, settings, world.own, store=False, issued_on=date(2025, 1, 6))
    for day in range(1, 51):
        issue_certificate(
            db, settings, world.foreign, store=False, issued_on=date(2026, 1, 1 + day % 28)
        )
    sign_in_as(client, db, settings, world.people["admin"])
    everything = client.get("/admin/certificats").text
    assert "51 certificats" in everything and "page 1 sur 2" in everything
    assert everything.count("/admin/certificats/") == 50  # one link per row
    assert f'/admin/certificats/{first.id}"' in client.get("/admin/certificats?page=2").text
    by_name = client.get("/admin/certificats?q=TEST candidat").text
    assert "1 certificat " in by_name and f'/admin/certificats/{first.id}"' in by_name
    by_code = client.get(f"/admin/certificats?q={first.code.replace('-', '').lower()}").text
    assert "1 certificat " in by_code and first.code in by_code
    assert "0 certificat" in client.get("/admin/certificats?q=%25").text  # LIKE wildcard escaped


# --- the holder's list ---------------------------------------------------------------------


def test_for_holder_and_the_dashboard_partial(
    app, db: Session, settings: Settings, world: World
) -> None:  # type: ignore[no-untyped-def]
    old = issue_certificate(
        db, settings, world.own, bloc_key="GRU", issued_on=date(2026, 6, 1), store=False
    )
    new = issue_certificate(db, settings, world.own, bloc_key="POS", store=False)
    issue_certificate(db, settings, world.foreign, store=False)
    old.revoked_at = NOW
    listed = service.for_holder(db, world.people["candidat"].id)
    assert [c.id for c in listed] == [new.id, old.id]
    request = Request({"type": "http", "app": app, "method": "GET", "path": "/", "headers": []})
    html = templates.get_template("certificates/_list.html").render(
        request=request, certificates=listed
    )
    assert f'href="/certificats/{new.id}.pdf"' in html
    assert f'href="/certificats/{new.id}/badge.json"' in html
    assert f'href="/certificats/{old.id}/badge.json"' not in html  # revoked: no badge
    assert f'href="/verifier/{new.code}"' in html
    assert "RNCP35543BC03" in html and "révoqué le" in html and "valide" in html
    empty = templates.get_template("certificates/_list.html").render(
        request=request, certificates=[]
    )
    assert "Aucun certificat" in empty


def test_store_replaces_the_file_name_and_hash(
    db: Session, settings: Settings, world: World
) -> None:
    certificate = issue_certificate(db, settings, world.own)
    first_name, first_hash = certificate.pdf_file, certificate.pdf_sha256
    store_certificate_pdf(settings=settings, certificate=certificate)
    assert certificate.pdf_file != first_name and certificate.pdf_sha256 != first_hash
    assert isinstance(db.get(Certificate, certificate.id), Certificate)


# --- links follow the served address -------------------------------------------------------


def test_serve_port_and_host_make_the_base_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`vae-portal serve --host H --port P` without BASE_URL: the application the server
    imports builds its links (certificates, QR codes, badges, mails) on http://H:P."""
    monkeypatch.setattr(settings_module, "REPO_ROOT", tmp_path)  # no developer's .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BASE_URL", raising=False)
    for name in ("HOST", "PORT"):  # restored after the test, whatever serve sets
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    served: dict[str, object] = {}

    def run(app: str, **options: object) -> None:
        # what portal.asgi's create_app() reads, in this process or in a worker
        served.update(options, app=app, settings=load_settings())

    monkeypatch.setattr(uvicorn, "run", run)
    assert cli.main(["serve", "--port", "8123"]) == 0
    app_settings = served["settings"]
    assert isinstance(app_settings, Settings)
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    assert app_settings.base_url == "http://127.0.0.1:8123"
    code = new_code()
    assert verification_url(app_settings, code) == f"http://127.0.0.1:8123/verifier/{code}"

    assert cli.main(["serve", "--host", "::1", "--port", "8124"]) == 0
    assert (served["host"], served["port"]) == ("::1", 8124)
    assert served["settings"].base_url == "http://[::1]:8124"  # type: ignore[attr-defined]

    monkeypatch.setenv("BASE_URL", "https://cqp.example.fr/")  # an explicit BASE_URL wins
    assert cli.main(["serve", "--port", "8125"]) == 0
    assert served["port"] == 8125
    assert served["settings"].base_url == "https://cqp.example.fr"  # type: ignore[attr-defined]
