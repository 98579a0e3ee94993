"""The RGPD export: ``/compte/mes-donnees`` page and the zip of one's own data."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.portal.rgpd_world import ANNEX_NAME, SECRET, build_rich
from tests.portal.world import build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor, record


def _export(client: TestClient, token: str) -> zipfile.ZipFile:
    response = client.post("/compte/mes-donnees", data={"csrf_token": token})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="mes-donnees-cqp-')
    assert disposition.endswith('.zip"') and len(disposition) == len(
        'attachment; filename="mes-donnees-cqp-2027-03-01.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    return archive


def _json(archive: zipfile.ZipFile, name: str):  # type: ignore[no-untyped-def]
    raw = archive.read(name)
    assert "\\u00" not in raw.decode("utf-8")  # ensure_ascii=False: accents as they are
    return json.loads(raw)


def test_page_explains_and_account_links_to_it(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["candidat"])
    account = client.get("/compte")
    assert (
        'href="/compte/mes-donnees"' in account.text and "Mes données personnelles" in account.text
    )
    page = client.get("/compte/mes-donnees")
    assert page.status_code == 200
    assert "<h1>Mes données personnelles</h1>" in page.text
    assert "Vos parcours</strong> (1)" in page.text
    assert 'action="/compte/mes-donnees"' in page.text and 'name="csrf_token"' in page.text
    assert "anonymisés 12 mois après la fin" in page.text


def test_candidate_export_holds_everything_about_them(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    rich = build_rich(db, settings, world, end=date(2027, 3, 1))
    candidate = world.people["candidat"]
    # something about somebody else, which must never appear
    record(
        session=db,
        actor=Actor(world.people["other_candidat"].id, "Autre", "203.0.113.9"),
        action="livret.submit",
        object_type="livret",
        object_id=999,
        subject_id=world.people["other_candidat"].id,
    )
    token = sign_in_as(client, db, settings, candidate)
    archive = _export(client, token)
    folder = f"parcours-{rich.parcours.id}/"
    names = set(archive.namelist())
    assert {
        "LISEZMOI.txt",
        "profil.json",
        "journal.json",
        "certificats.json",
        folder + "parcours.json",
        folder + "carnet.json",
        folder + "carnet.pdf",
        folder + "livret.json",
        folder + "livret.pdf",
        folder + "decisions.json",
        folder + "annexes/Courrier_ réponse à l'assurée_.pdf",
    } <= names
    assert f"parcours-{world.foreign.id}/parcours.json" not in names

    profile = _json(archive, "profil.json")
    assert profile["courriel"] == "candidat@test.fr" and profile["roles"] == ["candidat"]
    assert profile["organisation"]["nom"] == "CPAM Test"
    parcours = _json(archive, folder + "parcours.json")
    assert parcours["voie"] == "vae" and parcours["fin"] == "2027-03-01"
    assert parcours["tuteur"] == "Mme Tuteur Test" and parcours["certification"]["code"]

    carnet = _json(archive, folder + "carnet.json")
    version = carnet["attestations"][0]["versions"][0]
    assert version["description"] == f"Accueil de {SECRET}."
    assert version["signataire"] == "Mme Tuteur Test" and len(version["empreinte_sha256"]) == 64
    assert version["controle_signature"].startswith("Signature valide")
    assert "10.9.9.9" not in archive.read(folder + "carnet.json").decode()  # the tutor's IP
    assert carnet["pre_positionnement"][0]["commentaire"] == f"Je progresse avec {SECRET}."
    assert carnet["jalons"][0]["notes"] == f"Point sur {SECRET}."
    assert PdfReader(io.BytesIO(archive.read(folder + "carnet.pdf"))).pages

    livret = _json(archive, folder + "livret.json")
    assert livret["profil"]["emploi_actuel"] == "Conseillère offre de services"
    assert livret["situations"][0]["contexte"] == f"J'ai reçu {SECRET}."
    annex = livret["situations"][0]["annexes"][0]
    assert annex["nom"] == ANNEX_NAME and annex["fichier"].endswith(
        "Courrier_ réponse à l'assurée_.pdf"
    )
    assert archive.read(annex["fichier"]) == rich.annex_bytes
    assert livret["soumissions"][0]["empreinte_sha256"] and livret["soumissions"][0]["contenu"]
    assert len(PdfReader(io.BytesIO(archive.read(folder + "livret.pdf"))).pages) >= 2

    decisions = _json(archive, folder + "decisions.json")
    avis = decisions["avis_jury_professionnel"][0]
    assert avis["avis"][0]["preconisations"] == "Travailler la reformulation."
    assert avis["signatures"][0]["membre"] == "Mme Jurypro Test"
    assert "198.51.100.4" not in archive.read(folder + "decisions.json").decode()
    assert avis["recours"]["texte"] == "Je conteste l'avis."
    assert decisions["jury_national"][0]["decisions"][0]["valide"] is True
    assert decisions["jury_national"][0]["proclame_le"].startswith("2027-02-25")
    assert decisions["convocations"][0]["lieu"] == "Montreuil"

    certificates = _json(archive, "certificats.json")
    assert certificates[0]["code_verification"] == rich.certificate.code
    stored = archive.read(certificates[0]["fichier"])
    assert stored[:5] == b"%PDF-" and certificates[0]["sha256"] == rich.certificate.pdf_sha256
    assert certificates[0]["adresse_verification"].endswith(f"/verifier/{rich.certificate.code}")

    journal = _json(archive, "journal.json")
    actions = {e["action"] for e in journal}
    assert "carnet.attestation_sign" in actions
    assert all(e["objet"] != "livret 999" for e in journal)  # the other candidate's entry
    assert all(e["adresse_ip"] in (None, "testclient") for e in journal)
    assert {e["auteur"] for e in journal if e["action"] == "carnet.attestation_sign"} == {
        "Tuteur Test"
    }

    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "rgpd.export")).one()
    assert entry.actor_id == candidate.id and entry.subject_id == candidate.id
    assert entry.details["parcours"] == 1 and entry.details["annexes"] == 1
    assert entry.details["certificats"] == 1 and entry.details["bytes"] > 0


def test_tutor_gets_their_account_and_the_attestations_they_wrote(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    build_rich(db, settings, world, end=None)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    archive = _export(client, token)
    names = set(archive.namelist())
    assert not any(n.startswith("parcours-") or n.startswith("certificats") for n in names)
    assert _json(archive, "profil.json")["roles"] == ["tuteur"]
    written = _json(archive, "attestations-redigees.json")
    assert [w["competence"] for w in written] == ["GRU-C1"]
    assert written[0]["adresse_ip_signature"] == "10.9.9.9"  # their own
    assert written[0]["description"] == f"Accueil de {SECRET}."
    text = b"".join(archive.read(n) for n in names).decode("utf-8", "replace")
    assert "Je progresse avec" not in text and "J'ai reçu" not in text  # the candidate's texts
    journal = _json(archive, "journal.json")
    assert journal and all(e["auteur"] == "vous" for e in journal if e["adresse_ip"])


def test_jury_member_gets_the_avis_they_signed(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    build_rich(db, settings, world, end=None)
    token = sign_in_as(client, db, settings, world.people["jury_pro"])
    archive = _export(client, token)
    signatures = _json(archive, "signatures-avis.json")
    assert signatures[0]["adresse_ip"] == "198.51.100.4" and signatures[0]["qualite"] == "president"
    assert "attestations-redigees.json" not in archive.namelist()


def test_export_without_csrf_is_refused(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["candidat"])
    response = client.post("/compte/mes-donnees", data={})
    assert response.status_code == 403
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "rgpd.export")) is None
