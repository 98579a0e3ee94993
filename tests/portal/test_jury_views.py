"""Jury sessions through HTTP: planning, refusals with the rule, convocation seen by the
candidate."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.livret.helpers import NOW, actor, certification_of, complete_livret
from tests.portal.world import build_world, sign_in_as
from tests.vae.test_jury_service import _expert
from vae.jury.models import JurySession
from vae.livret import service as livret_service
from vae.people.models import Branche
from vae.referentiel.model import Referentiel


def test_admin_plans_composes_and_convenes(
    client: TestClient, db: Session, settings: Settings, referentiel: Referentiel
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["admin"])
    bad = client.post(
        "/jury/sessions",
        data={
            "csrf_token": token,
            "kind": "professionnel",
            "day": "2027-03-09",
            "place": "Montreuil",
            "capacity": "10",
        },
    )
    assert bad.status_code == 400 and "février, avril, juin, octobre, décembre" in bad.text
    created = client.post(
        "/jury/sessions",
        data={
            "csrf_token": token,
            "kind": "professionnel",
            "day": "2027-02-09",
            "place": "Montreuil",
            "capacity": "10",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"]
    session_id = int(url.rsplit("/", 1)[1])
    refused = client.post(
        f"{url}/membres",
        data={
            "csrf_token": token,
            "quality": "president",
            "user_id": str(world.people["jury_pro"].id),
        },
    )
    assert refused.status_code == 400
    assert "Refusé au nom des règles de composition du jury" in refused.text
    assert "n&#39;a pas de date de formation obligatoire" in refused.text
    world.people["jury_pro"].jury_training_date = date(2026, 3, 1)
    expert = _expert(db, world, "maladie", Branche.MALADIE)
    for user, quality in ((world.people["jury_pro"], "president"), (expert, "expert")):
        ok = client.post(
            f"{url}/membres",
            data={"csrf_token": token, "quality": quality, "user_id": str(user.id)},
            follow_redirects=False,
        )
        assert ok.status_code == 303
    not_ready = client.post(
        f"{url}/convocations",
        data={"csrf_token": token, "parcours_id": str(world.own.id), "time": "09:30"},
    )
    assert not_ready.status_code == 400 and "n&#39;est pas soumis" in not_ready.text
    livret = complete_livret(db, world, referentiel)
    livret_service.submit(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        livret=livret,
        certification=certification_of(referentiel, world),
        sworn=True,
        now=NOW,
    )
    convened = client.post(
        f"{url}/convocations",
        data={"csrf_token": token, "parcours_id": str(world.own.id), "time": "09:30"},
        follow_redirects=False,
    )
    assert convened.status_code == 303
    page = client.get(url)
    assert "Toutes les règles de composition sont respectées." in page.text
    assert "09:30" in page.text
    jury_session = db.get(JurySession, session_id)
    assert jury_session is not None and len(jury_session.convocations) == 1
    convocation = jury_session.convocations[0]
    moved = client.post(
        f"/jury/convocations/{convocation.id}/horaire",
        data={"csrf_token": token, "time": "14:00"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    sign_in_as(client, db, settings, world.people["candidat"])
    dashboard = client.get("/tableau-de-bord")
    assert "Convocation au jury" in dashboard.text and "14:00" in dashboard.text
    assert "Date modifiée" in dashboard.text and "09:30" in dashboard.text
    pdf = client.get(f"/convocations/{convocation.id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sign_in_as(client, db, settings, world.people["jury_pro"])
    assert client.get(f"/parcours/{world.own.id}").status_code == 200  # now evaluates them
    assert client.get(f"/parcours/{world.foreign.id}").status_code == 404


def test_referent_records_a_trainer_on_the_parcours(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["referent"])
    url = f"/parcours/{world.own.id}/formateurs"
    unknown = client.post(url, data={"csrf_token": token, "email": "personne@test.fr"})
    assert unknown.status_code == 400 and 'id="trainer-error"' in unknown.text
    added = client.post(
        url, data={"csrf_token": token, "email": "JuryPro@test.fr"}, follow_redirects=False
    )
    assert added.status_code == 303
    assert [t.id for t in world.own.trainers] == [world.people["jury_pro"].id]
    page = client.get(f"/parcours/{world.own.id}")
    assert "Jurypro Test" in page.text
    removed = client.post(
        f"{url}/{world.people['jury_pro'].id}/retirer",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    db.refresh(world.own)
    assert world.own.trainers == []
