"""The référent records the prerequisites of the CQP (Pass, Prem'ss) on the parcours page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.portal.world import build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.decision import prerequisites


def test_referent_records_and_removes_a_prerequisite(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    parcours = world.own
    parcours.route = "formation"
    db.flush()
    token = sign_in_as(client, db, settings, world.people["referent"])
    page = client.get(f"/parcours/{parcours.id}")
    assert "Formation Pass suivie intégralement" in page.text
    assert "Formation Prem'ss suivie intégralement" in page.text.replace("&#39;", "'")
    assert prerequisites.missing(db, parcours.id, ("pass", "premss")) == ["pass", "premss"]

    future = client.post(
        f"/parcours/{parcours.id}/prerequis",
        data={"csrf_token": token, "prerequisite": "pass", "completed_on": "2999-01-01"},
    )
    assert future.status_code == 400
    assert "La date ne peut pas être dans le futur." in future.text
    assert 'aria-describedby="completed_on-error"' in future.text
    assert prerequisites.recorded(db, parcours.id) == {}

    unknown = client.post(
        f"/parcours/{parcours.id}/prerequis",
        data={"csrf_token": token, "prerequisite": "autre", "completed_on": "2026-03-02"},
    )
    assert unknown.status_code == 400 and "Choisissez un prérequis de la liste." in unknown.text

    done = client.post(
        f"/parcours/{parcours.id}/prerequis",
        data={"csrf_token": token, "prerequisite": "pass", "completed_on": "2026-03-02"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert prerequisites.missing(db, parcours.id, ("pass", "premss")) == ["premss"]
    again = client.post(
        f"/parcours/{parcours.id}/prerequis",
        data={"csrf_token": token, "prerequisite": "pass", "completed_on": "2026-03-02"},
    )
    assert again.status_code == 400 and "déjà enregistré" in again.text
    assert "terminée le 2 mars 2026" in client.get(f"/parcours/{parcours.id}").text

    removed = client.post(
        f"/parcours/{parcours.id}/prerequis/pass/retirer",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert prerequisites.recorded(db, parcours.id) == {}
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("parcours.prerequisite%"))
    ).all()
    assert actions == ["parcours.prerequisite_record", "parcours.prerequisite_remove"]


def test_vae_route_has_no_prerequisite_by_default(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    world.own.route = "vae"
    db.flush()
    sign_in_as(client, db, settings, world.people["referent"])
    assert "Aucun prérequis pour la voie VAE." in client.get(f"/parcours/{world.own.id}").text


def test_a_tutor_sees_the_prerequisites_without_the_form(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    world.own.route = "formation"
    db.flush()
    sign_in_as(client, db, settings, world.people["tuteur"])
    page = client.get(f"/parcours/{world.own.id}")
    assert "Prérequis du CQP" in page.text and "Enregistrer le prérequis" not in page.text
