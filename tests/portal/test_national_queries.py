"""The national pages read a fixed number of statements whatever the number of dossiers: the
sessions list counts dossiers and complete decisions in SQL, a session's agenda reads every
dossier (and re-verifies its signature) in a few statements."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, strategies
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.portal.policy_national import (
    decide_as_avis,
    national_session,
    on_agenda,
    signed_evaluation,
)
from tests.portal.statements import page_statements
from tests.portal.world import World, build_world, sign_in_as
from vae.decision.models import Certificate, Evaluation, NationalDossier, Proclamation
from vae.jury.models import JurySession
from vae.orm import utcnow


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy's selectinload reads 500 parents per statement: with batches of 2, a page that
    loads its dossiers' rows through it (as these pages did) shows here with a few dossiers
    what it does at national scale with thousands."""
    for name in ("_SelectInLoader", "SelectInLoader"):  # SQLAlchemy 2.1, 2.0
        if hasattr(strategies, name):
            monkeypatch.setattr(getattr(strategies, name), "_chunksize", 2)
            return
    raise AssertionError("SQLAlchemy's selectin loader moved")


def _dossier(
    db: Session, world: World, jury: JurySession, *, foreign: bool = False, **kw: Any
) -> NationalDossier:
    parcours = world.foreign if foreign else world.own
    evaluation = signed_evaluation(db, parcours, signer=world.people["jury_pro"], **kw)
    dossier = on_agenda(db, jury, evaluation)
    db.expire_all()
    return dossier


def test_the_sessions_list_does_not_query_per_dossier(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["jury_national"])
    first = national_session(db)
    _dossier(db, world, first)
    one, page = page_statements(client, db, "/national/sessions")
    assert "<td>1</td>" in page and "<td>0 / 1</td>" in page
    decide_as_avis(db, _dossier(db, world, first, foreign=True))
    _dossier(db, world, first, recours="Je conteste.")
    second = national_session(db, date(2027, 6, 10))
    decide_as_avis(db, _dossier(db, world, second))
    db.expire_all()
    more, page = page_statements(client, db, "/national/sessions")
    assert more == one, (one, more)
    assert "<td>3</td>" in page and "<td>1 / 3</td>" in page
    assert "<td>1 / 1</td>" in page


def test_the_session_page_does_not_query_per_dossier(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])  # also lists what may be added
    jury = national_session(db)
    url = f"/national/sessions/{jury.id}"
    _dossier(db, world, jury)
    signed_evaluation(db, world.foreign, signer=world.people["jury_pro"])  # may be added
    db.expire_all()
    one, page = page_statements(client, db, url)
    assert "1 dossier à l'ordre du jour" in page
    decide_as_avis(db, _dossier(db, world, jury, foreign=True))
    tampered = _dossier(db, world, jury, recours="Je conteste.")
    _dossier(db, world, jury, waived=True)
    _dossier(db, world, jury, signed=False)
    signed_evaluation(db, world.own, signer=world.people["jury_pro"])
    db.expire_all()
    more, page = page_statements(client, db, url)
    assert more == one, (one, more)
    assert "5 dossiers à l'ordre du jour" in page
    assert "avis non signé" in page and "renonciation" in page and "déposé" in page
    assert "signature rompue" not in page
    # every view re-verifies the signatures: a grid changed since shows on the next one
    db.execute(
        update(Evaluation).where(Evaluation.id == tampered.evaluation_id).values(comments={})
    )
    db.expire_all()
    again, page = page_statements(client, db, url)
    assert again == one, (one, again)
    assert page.count("signature rompue</span>") == 1


def test_the_proclaimed_session_page_does_not_query_per_dossier(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["jury_national"])
    jury = national_session(db)
    url = f"/national/sessions/{jury.id}"
    db.add(Proclamation(session_id=jury.id, proclaimed_at=utcnow()))

    def issued(dossier: NationalDossier) -> None:
        parcours = world.foreign if dossier.parcours_id == world.foreign.id else world.own
        for key in ("GRU", "POS"):
            db.add(
                Certificate(
                    code=f"C-{dossier.id}-{key}",
                    kind="ccp",
                    holder_id=parcours.candidate_id,
                    parcours_id=parcours.id,
                    dossier_id=dossier.id,
                    session_id=jury.id,
                    certification_code="X",
                    certification_short="CQP X",
                    certification_title="X",
                    bloc_key=key,
                    route=parcours.route,
                    issued_on=date(2027, 3, 18),
                    holder_first_name="A",
                    holder_last_name="B",
                )
            )
        db.flush()

    issued(_dossier(db, world, jury))
    one, page = page_statements(client, db, url)
    assert "(C-" in page
    issued(_dossier(db, world, jury, foreign=True))
    issued(_dossier(db, world, jury))
    db.expire_all()
    more, page = page_statements(client, db, url)
    assert more == one, (one, more)
    assert page.count("CCP GRU") == 3
