"""Livret services: structure rules, optimistic locking, submission freeze, return."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.livret.helpers import NOW, actor, add, certification_of, complete_livret, full_input
from tests.portal.world import build_world
from vae.audit.service import verify
from vae.livret import service
from vae.livret.rules import coverage
from vae.referentiel.model import Referentiel


def test_one_or_two_situations_per_bloc(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    add(db, world, referentiel, livret, "GRU")
    add(db, world, referentiel, livret, "GRU")
    with pytest.raises(service.LivretValidation) as error:
        add(db, world, referentiel, livret, "GRU")
    assert "maximum" in error.value.errors["bloc"]
    with pytest.raises(service.NotAllowed):
        add(db, world, referentiel, livret, "GDU")  # not a COS bloc


def test_submission_lists_what_is_missing(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    cert = certification_of(referentiel, world)
    add(db, world, referentiel, livret, "GRU")
    problems = service.problems(livret, cert)
    assert "Renseignez votre emploi actuel et votre parcours professionnel." in problems
    assert "Bloc MDR : décrivez au moins une situation significative." in problems
    assert any("Situation « sans titre » (GRU) : complétez le titre" in p for p in problems)
    assert any("indiquez les compétences" in p for p in problems)
    with pytest.raises(service.LivretValidation):
        service.submit(
            session=db,
            actor=actor(world),
            user=world.people["candidat"],
            livret=livret,
            certification=cert,
            sworn=True,
            now=NOW,
        )


def test_held_blocs_need_no_situation(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    from vae.parcours.models import HeldBloc

    world.own.held_blocs.append(HeldBloc(bloc_key="GRU", origin="CQP GC"))
    db.flush()
    livret = complete_livret(db, world, referentiel)
    assert service.problems(livret, certification_of(referentiel, world)) == []
    assert all(s.bloc_key != "GRU" for s in livret.situations)


def test_stale_tab_conflicts_and_same_content_is_a_no_op(
    db: Session, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    cert = certification_of(referentiel, world)
    situation = add(db, world, referentiel, livret, "GRU")
    user = world.people["candidat"]
    data = full_input("GRU", referentiel)
    service.save_situation(
        session=db,
        actor=actor(world),
        user=user,
        situation=situation,
        certification=cert,
        data=data,
        lock_version=1,
        now=NOW,
    )
    assert situation.lock_version == 2
    again = service.save_situation(
        session=db,
        actor=actor(world),
        user=user,
        situation=situation,
        certification=cert,
        data=data,
        lock_version=1,
        now=NOW,
    )  # the same save, resent
    assert again.lock_version == 2
    data.actions = "Texte de l'autre onglet"
    with pytest.raises(service.LivretConflict) as conflict:
        service.save_situation(
            session=db,
            actor=actor(world),
            user=user,
            situation=situation,
            certification=cert,
            data=data,
            lock_version=1,
            now=NOW,
        )
    assert conflict.value.submitted["actions"] == "Texte de l'autre onglet"
    assert situation.actions == "J'ai vérifié sa situation et ouvert ses droits."


def test_validation(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    cert = certification_of(referentiel, world)
    situation = add(db, world, referentiel, livret, "GRU")
    data = full_input("GRU", referentiel)
    data.period_from, data.period_to = "2026-03-01", "2026-02-01"
    data.actions = "x" * 20_001
    data.competence_keys = ["MDR-C7"]
    with pytest.raises(service.LivretValidation) as error:
        service.save_situation(
            session=db,
            actor=actor(world),
            user=world.people["candidat"],
            situation=situation,
            certification=cert,
            data=data,
            lock_version=1,
            now=NOW,
        )
    assert set(error.value.errors) == {"period_to", "actions", "competence_keys"}
    assert "20 000 caractères" in error.value.errors["actions"]


def test_submit_freezes_and_return_opens_a_new_edition(
    db: Session, referentiel: Referentiel
) -> None:
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    cert = certification_of(referentiel, world)
    user = world.people["candidat"]
    with pytest.raises(service.LivretValidation) as error:
        service.submit(
            session=db,
            actor=actor(world),
            user=user,
            livret=livret,
            certification=cert,
            sworn=False,
            now=NOW,
        )
    assert "déclaration sur l'honneur" in error.value.errors["submit"]
    submission = service.submit(
        session=db,
        actor=actor(world),
        user=user,
        livret=livret,
        certification=cert,
        sworn=True,
        now=NOW,
    )
    assert len(submission.content_hash) == 64 and submission.edition == 1
    assert submission.snapshot["situations"][0]["actions"].startswith("J'ai vérifié")
    situation = livret.situations[0]
    with pytest.raises(service.Frozen):
        service.save_situation(
            session=db,
            actor=actor(world),
            user=user,
            situation=situation,
            certification=cert,
            data=full_input("GRU", referentiel, "Nouveau"),
            lock_version=situation.lock_version,
            now=NOW,
        )
    with pytest.raises(service.NotAllowed):
        service.return_for_correction(
            session=db, actor=actor(world), user=user, livret=livret, reason="x", now=NOW
        )
    admin = world.people["admin"]
    service.return_for_correction(
        session=db,
        actor=actor(world, "admin"),
        user=admin,
        livret=livret,
        reason="Précisez la période du bloc TD.",
        now=NOW,
    )
    assert livret.editable and livret.edition == 2
    assert livret.submissions[0].return_reason == "Précisez la période du bloc TD."
    service.save_situation(
        session=db,
        actor=actor(world),
        user=user,
        situation=situation,
        certification=cert,
        data=full_input("GRU", referentiel, "Nouveau"),
        lock_version=situation.lock_version,
        now=NOW,
    )
    assert livret.submissions[0].snapshot["situations"][0]["title"] == "Situation GRU"
    assert verify(db).ok


def test_only_the_candidate_writes(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    for who in ("tuteur", "manager", "referent", "admin", "other_candidat"):
        with pytest.raises(service.NotAllowed):
            service.add_situation(
                session=db,
                actor=actor(world, who),
                user=world.people[who],
                livret=livret,
                certification=certification_of(referentiel, world),
                bloc_key="GRU",
                now=NOW,
            )


def test_coverage_shows_what_nothing_shows_yet(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    cert = certification_of(referentiel, world)
    situation = add(db, world, referentiel, livret, "GRU")
    data = full_input("GRU", referentiel)
    data.competence_keys = ["GRU-C1", "GRU-C2", "GRU-C3", "GRU-C4"]
    service.save_situation(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        situation=situation,
        certification=cert,
        data=data,
        lock_version=1,
        now=NOW,
    )
    blocs = coverage(
        cert,
        [service.facts(s) for s in livret.situations],
        held_blocs=set(),
        carnet={"GRU-C5": "Attestée par le tuteur seulement"},
    )
    gru = blocs[0]
    assert (gru.shown, gru.required, gru.shortfall) == (4, 5, 1)
    assert "encore 1 à illustrer" in gru.explanation
    c5 = next(c for c in gru.competences if c.key == "GRU-C5")
    assert not c5.shown_by_livret and c5.carnet == "Attestée par le tuteur seulement"
