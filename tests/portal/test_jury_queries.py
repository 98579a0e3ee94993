"""The jury session page reads a fixed number of queries whatever the number of candidates
convened (the composition review walks every candidate's employer, managers and trainers)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.portal.statements import page_statements
from tests.portal.world import build_world, sign_in_as
from vae.jury.models import Convocation, JurySession


def test_the_session_page_does_not_query_per_candidate(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])
    jury = JurySession(kind="professionnel", day=date(2027, 2, 9), place="Montreuil", capacity=9)
    db.add(jury)
    db.flush()

    def convene(parcours, hour: int) -> None:  # type: ignore[no-untyped-def]
        db.add(
            Convocation(
                session_id=jury.id,
                parcours_id=parcours.id,
                at=datetime(2027, 2, 9, hour, tzinfo=UTC),
                place="Montreuil",
            )
        )
        db.flush()
        db.expire_all()

    convene(world.own, 9)
    one = page_statements(client, db, f"/jury/sessions/{jury.id}")[0]
    convene(world.foreign, 10)
    two = page_statements(client, db, f"/jury/sessions/{jury.id}")[0]
    assert two == one, (one, two)
    list_one = page_statements(client, db, "/jury/sessions")[0]
    db.add(JurySession(kind="professionnel", day=date(2027, 4, 8), place="Lyon", capacity=5))
    db.flush()
    assert page_statements(client, db, "/jury/sessions")[0] == list_one
