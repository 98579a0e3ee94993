"""The carnet pages through HTTP: attest and sign, conflicts, errors, escaping, htmx."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.models import AttestationVersion
from portal.settings import Settings
from tests.portal.world import World, build_world, sign_in_as

FORM = {
    "situation_date": "2026-11-02",
    "situation_kind": "accueil_telephonique",
    "description": "Appel <script>alert('x')</script> d'une assurée",
    "observed": ["GRU-C1-1", "GRU-C1-2", "GRU-C1-3", "GRU-C1-4"],
    "verdict": "maitrisee",
    "comment": "",
    "base_number": "0",
    "lock_version": "0",
}


def _attest_and_sign(client: TestClient, world: World, token: str) -> str:
    base = f"/parcours/{world.own.id}/carnet"
    response = client.post(
        f"{base}/GRU-C1/attester", data={**FORM, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    confirm = client.get(response.headers["location"])
    assert "Relisez avant de signer" in confirm.text
    digest = re.search(r'name="content_hash" value="([0-9a-f]{64})"', confirm.text)
    assert digest
    signed = client.post(
        response.headers["location"],
        data={"content_hash": digest.group(1), "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return digest.group(1)


def test_tutor_and_manager_attest_and_the_candidate_sees_progress(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    for who in ("tuteur", "manager"):
        _attest_and_sign(client, world, sign_in_as(client, db, settings, world.people[who]))
    sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get(f"/parcours/{world.own.id}/carnet")
    assert page.status_code == 200
    assert "Attestée par le tuteur et le manager" in page.text
    assert page.text.count("Signature valide") == 2
    history = client.get(f"/parcours/{world.own.id}/carnet/GRU-C1").text
    assert "<script>alert" not in history and "&lt;script&gt;alert" in history
    assert "1 compétence(s) attestée(s) par le tuteur et le manager" in page.text


def test_tampering_shows_a_broken_signature(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    _attest_and_sign(client, world, token)
    db.execute(update(AttestationVersion).values(verdict="en_cours"))
    page = client.get(f"/parcours/{world.own.id}/carnet")
    assert "Signature rompue" in page.text
    assert "ne correspond plus à ce qui a été signé" in page.text
    # a broken signature no longer counts towards the 80 % rule
    competence = page.text.split('id="c-GRU-C1"', 1)[1]
    assert "Pas encore attestée" in competence.split("</article>", 1)[0]


def test_stale_form_answers_409_with_both_texts(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    url = f"/parcours/{world.own.id}/carnet/GRU-C1/attester"
    assert client.post(url, data={**FORM, "csrf_token": token}).status_code == 200
    stale = client.post(
        url, data={**FORM, "description": "Mon texte de l'autre onglet", "csrf_token": token}
    )
    assert stale.status_code == 409
    assert "Mon texte de l&#39;autre onglet" in stale.text
    assert "Appel &lt;script&gt;" in stale.text


def test_missing_fields_get_french_messages_next_to_them(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["manager"])
    response = client.post(
        f"/parcours/{world.own.id}/carnet/GRU-C1/attester",
        data={"csrf_token": token, "base_number": "0", "lock_version": "0"},
    )
    assert response.status_code == 400
    assert 'id="f-GRU-C1-description-error"' in response.text
    assert "Décrivez brièvement la situation observée." in response.text
    assert (
        'aria-describedby="f-GRU-C1-description-hint f-GRU-C1-description-error"' in response.text
    )


def test_attesting_for_a_candidate_one_is_not_assigned_to_answers_404(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["other_tuteur"])
    url = f"/parcours/{world.own.id}/carnet/GRU-C1/attester"
    assert client.get(url).status_code == 404
    assert client.post(url, data={**FORM, "csrf_token": token}).status_code == 404


def test_unknown_competence_or_held_bloc_answers_404(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["tuteur"])
    assert client.get(f"/parcours/{world.own.id}/carnet/GDU-C12/attester").status_code == 404
    assert client.get(f"/parcours/{world.own.id}/carnet/XX/attester").status_code == 404


def test_htmx_gets_fragments(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["tuteur"])
    fragment = client.get(
        f"/parcours/{world.own.id}/carnet/GRU-C1/attester", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'hx-post="/parcours/' in fragment.text
    assert fragment.headers["vary"] == "HX-Request"


def test_self_assessment_inline_and_visible_to_the_tutor(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["candidat"])
    url = f"/parcours/{world.own.id}/carnet/positionnement/GRU-C2"
    response = client.post(
        url,
        data={
            "level": "a_acquerir",
            "comment": "Je débute",
            "lock_version": "0",
            "csrf_token": token,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Pré-positionnement enregistré." in response.text
    bad = client.post(url, data={"level": "expert", "lock_version": "1", "csrf_token": token})
    assert bad.status_code == 400 and "Choisissez où vous en êtes" in bad.text
    sign_in_as(client, db, settings, world.people["tuteur"])
    assert "À acquérir — « Je débute »" in client.get(f"/parcours/{world.own.id}/carnet").text


def test_carnet_pdf_downloads(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    _attest_and_sign(client, world, token)
    response = client.get(f"/parcours/{world.own.id}/carnet.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response.headers["content-disposition"]


def test_worklist_counts_pending_attestations(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    page = client.get("/carnets")
    assert "18 sur 18" in page.text  # COS, no held bloc
    _attest_and_sign(client, world, token)
    assert "17 sur 18" in client.get("/carnets").text


def test_milestone_conflict_keeps_the_typed_notes(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    url = f"/parcours/{world.own.id}/carnet/jalons/positionnement"
    form = {
        "csrf_token": token,
        "day": "2026-09-10",
        "other_participants": "Mme Durand",
        "lock_version": "0",
    }
    assert client.post(url, data={**form, "notes": "Première"}).status_code == 200
    stale = client.post(url, data={**form, "notes": "Mes notes de l'autre onglet"})
    assert stale.status_code == 409
    assert "Mes notes de l&#39;autre onglet" in stale.text and "Première" in stale.text
