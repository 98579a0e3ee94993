"""The livret pages through HTTP: autosave, conflicts, escaping, submission, return."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.livret.helpers import add, complete_livret
from tests.portal.world import build_world, sign_in_as
from vae.livret import service
from vae.referentiel.model import Referentiel


def test_autosave_then_plain_save(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    situation = add(db, world, referentiel, livret, "GRU")
    token = sign_in_as(client, db, settings, world.people["candidat"])
    url = f"/livret/situations/{situation.id}"
    saved = client.post(
        f"{url}/autosave",
        headers={"HX-Request": "true"},
        data={
            "csrf_token": token,
            "lock_version": "1",
            "title": "Accueil d'un assuré en colère",
            "actions": "<script>alert(1)</script> J'ai écouté.",
            "competence_keys": ["GRU-C4"],
        },
    )
    assert saved.status_code == 200
    assert "Dernier enregistrement à" in saved.text
    assert 'id="lock-version" value="2" hx-swap-oob="true"' in saved.text
    assert 'id="coverage" class="coverage" hx-swap-oob="true"' in saved.text
    page = client.get(url)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; J&#39;ai écouté." in page.text
    assert "<script>alert(1)" not in page.text
    plain = client.post(
        url,
        data={
            "csrf_token": token,
            "lock_version": "2",
            "title": "Accueil d'un assuré en colère",
            "actions": "Version 3",
        },
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == f"{url}?enregistre=1"


def test_stale_tab_gets_both_texts_side_by_side(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    situation = add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")
    token = sign_in_as(client, db, settings, world.people["candidat"])
    url = f"/livret/situations/{situation.id}"
    client.post(url, data={"csrf_token": token, "lock_version": "1", "actions": "Texte A"})
    stale = client.post(url, data={"csrf_token": token, "lock_version": "1", "actions": "Texte B"})
    assert stale.status_code == 409
    assert "rien n'a été écrasé" in stale.text
    assert "Texte A" in stale.text and "Texte B" in stale.text
    htmx = client.post(
        f"{url}/autosave",
        headers={"HX-Request": "true"},
        data={"csrf_token": token, "lock_version": "1", "actions": "Texte C"},
    )
    assert htmx.status_code == 409 and "<html" not in htmx.text and "Texte C" in htmx.text


def test_oversized_text_is_refused_with_a_message(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    situation = add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")
    token = sign_in_as(client, db, settings, world.people["candidat"])
    response = client.post(
        f"/livret/situations/{situation.id}",
        data={"csrf_token": token, "lock_version": "1", "context": "x" * 20_001},
    )
    assert response.status_code == 400
    assert 'id="context-error"' in response.text and "20 000 caractères" in response.text
    assert situation.context == ""


def test_submit_freeze_and_return(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    token = sign_in_as(client, db, settings, world.people["candidat"])
    base = f"/parcours/{world.own.id}/livret"
    refused = client.post(f"{base}/soumettre", data={"csrf_token": token})
    assert refused.status_code == 400 and "déclaration sur l&#39;honneur" in refused.text
    submitted = client.post(
        f"{base}/soumettre", data={"csrf_token": token, "sworn": "1"}, follow_redirects=False
    )
    assert submitted.status_code == 303
    situation = livret.situations[0]
    frozen = client.post(
        f"/livret/situations/{situation.id}",
        data={"csrf_token": token, "lock_version": str(situation.lock_version), "title": "Après"},
    )
    assert frozen.status_code == 409 and "ne peut plus être modifié" in frozen.text
    overview = client.get(base)
    assert "Soumis" in overview.text and "empreinte du contenu soumis" in overview.text
    admin_token = sign_in_as(client, db, settings, world.people["admin"])
    empty = client.post(f"{base}/retour", data={"csrf_token": admin_token, "reason": " "})
    assert empty.status_code == 400 and "Indiquez au candidat" in empty.text
    back = client.post(
        f"{base}/retour",
        data={"csrf_token": admin_token, "reason": "Précisez le résultat du bloc TD."},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert "retourné pour correction" in client.get(base).text


def test_tutor_reads_but_cannot_write(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    token = sign_in_as(client, db, settings, world.people["tuteur"])
    url = f"/livret/situations/{livret.situations[0].id}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="situation-form"' not in page.text
    assert "J&#39;ai vérifié sa situation" in page.text
    assert client.post(url, data={"csrf_token": token, "lock_version": "2"}).status_code == 403
    assert client.post(f"{url}/autosave", data={"csrf_token": token}).status_code == 403


def test_coverage_page(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    add(db, world, referentiel, livret, "GRU")
    sign_in_as(client, db, settings, world.people["candidat"])
    page = client.get(f"/parcours/{world.own.id}/livret/couverture")
    assert page.status_code == 200
    assert page.text.count("Rien ne la montre encore") == 18
    assert "la règle des 80 % en demande 5 : encore 5 à illustrer" in page.text
