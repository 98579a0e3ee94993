"""Jury sessions: assigning members and convening candidates under the composition rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from tests.portal.world import World, build_world
from vae.audit.service import Actor
from vae.jury.models import JurySession, SessionKind
from vae.jury.service import (
    JuryError,
    JuryRuleViolation,
    assign_member,
    convene,
    plan_session,
    reschedule,
    session_review,
)
from vae.people.models import Branche, Civility, OrganisationKind, OrganisationType, Role
from vae.people.service import create_organisation, create_user

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DAY = date(2027, 2, 9)
SYSTEM = Actor.system("tests")


def _session(db: Session) -> JurySession:
    return plan_session(
        session=db,
        actor=SYSTEM,
        kind=SessionKind.PROFESSIONNEL,
        day=DAY,
        place="Ucanss, Montreuil",
        capacity=2,
        months=(2, 4, 6, 10, 12),
        exam_days=15,
    )


def _expert(db: Session, world: World, name: str, branche: Branche, trained: bool = True):  # type: ignore[no-untyped-def]
    org = create_organisation(
        session=db,
        actor=SYSTEM,
        name=f"Caisse {name}",
        kind=OrganisationKind.ORGANISME,
        type=OrganisationType.CPAM,
        branche=branche,
    )
    return create_user(
        session=db,
        actor=SYSTEM,
        email=f"{name}@test.fr",
        civility=Civility.M,
        first_name=name.capitalize(),
        last_name="Expert",
        organisation=org,
        roles={Role.JURY_PRO},
        jury_training_date=date(2026, 3, 1) if trained else None,
    )


def _ready(db: Session, world: World) -> tuple[JurySession, object]:
    jury = _session(db)
    world.people["jury_pro"].jury_training_date = date(2026, 3, 1)
    assign_member(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        user=world.people["jury_pro"],
        quality="president",
        now=NOW,
    )
    expert = _expert(db, world, "maladie", Branche.MALADIE)
    assign_member(
        session=db, actor=SYSTEM, jury_session=jury, user=expert, quality="expert", now=NOW
    )
    return jury, expert


def test_a_lawful_jury_convenes_a_ready_candidate(db: Session) -> None:
    world = build_world(db)
    jury, _ = _ready(db, world)
    convocation = convene(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        parcours=world.own,
        at=datetime(2027, 2, 9, 9, 30, tzinfo=UTC),
        not_ready=None,
        now=NOW,
    )
    assert convocation.place == "Ucanss, Montreuil"
    assert session_review(jury).valid


def test_refusals_name_the_rule_and_the_people(db: Session) -> None:
    world = build_world(db)
    jury = _session(db)
    with pytest.raises(JuryRuleViolation) as untrained:
        assign_member(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            user=world.people["jury_pro"],
            quality="president",
            now=NOW,
        )
    assert "Jurypro Test n'a pas de date de formation" in str(untrained.value)
    world.people["jury_pro"].jury_training_date = date(2026, 3, 1)
    outsider = _expert(db, world, "famille", Branche.FAMILLE)
    with pytest.raises(JuryRuleViolation) as president:
        assign_member(
            session=db, actor=SYSTEM, jury_session=jury, user=outsider, quality="president", now=NOW
        )
    assert "ne peut pas présider" in str(president.value)
    with pytest.raises(JuryError):
        assign_member(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            user=world.people["tuteur"],
            quality="expert",
            now=NOW,
        )


def test_convening_rechecks_branch_and_independence(db: Session) -> None:
    world = build_world(db)
    jury = _session(db)
    world.people["jury_pro"].jury_training_date = date(2026, 3, 1)
    assign_member(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        user=world.people["jury_pro"],
        quality="president",
        now=NOW,
    )
    at = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)
    with pytest.raises(JuryRuleViolation) as gap:
        convene(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            parcours=world.own,
            at=at,
            not_ready=None,
            now=NOW,
        )
    assert "Aucun expert métier de la branche Maladie pour Candidat Test" in str(gap.value)
    colleague = create_user(
        session=db,
        actor=SYSTEM,
        email="collegue@test.fr",
        civility=Civility.MME,
        first_name="Collègue",
        last_name="Cpam",
        organisation=world.cpam,
        roles={Role.JURY_PRO},
        jury_training_date=date(2026, 3, 1),
    )
    assign_member(
        session=db, actor=SYSTEM, jury_session=jury, user=colleague, quality="expert", now=NOW
    )
    with pytest.raises(JuryRuleViolation) as employer:
        convene(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            parcours=world.own,
            at=at,
            not_ready=None,
            now=NOW,
        )
    assert "appartient à l'organisme employeur de Candidat Test" in str(employer.value)


def test_not_ready_capacity_and_day(db: Session) -> None:
    world = build_world(db)
    jury, _ = _ready(db, world)
    at = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)
    with pytest.raises(JuryError, match="livret"):
        convene(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            parcours=world.own,
            at=at,
            not_ready="Le livret 2 n'est pas soumis.",
            now=NOW,
        )
    with pytest.raises(JuryError, match="jour de la session"):
        convene(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            parcours=world.own,
            at=datetime(2027, 2, 10, 9, tzinfo=UTC),
            not_ready=None,
            now=NOW,
        )


def test_reschedule_keeps_the_former_time(db: Session) -> None:
    world = build_world(db)
    jury, _ = _ready(db, world)
    first = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)
    convocation = convene(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        parcours=world.own,
        at=first,
        not_ready=None,
        now=NOW,
    )
    reschedule(
        session=db,
        actor=SYSTEM,
        convocation=convocation,
        at=datetime(2027, 2, 9, 14, 0, tzinfo=UTC),
        now=NOW,
    )
    assert convocation.previous_at == first and convocation.at.hour == 14


def test_member_conflicting_with_a_convened_candidate_is_refused(db: Session) -> None:
    world = build_world(db)
    jury, _ = _ready(db, world)
    convene(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        parcours=world.own,
        at=datetime(2027, 2, 9, 9, 30, tzinfo=UTC),
        not_ready=None,
        now=NOW,
    )
    manager = world.people["manager"]
    manager.role_rows  # noqa: B018 - loaded
    from vae.people.models import UserRole

    manager.role_rows.append(UserRole(role=Role.JURY_PRO.value))
    manager.jury_training_date = date(2026, 3, 1)
    db.flush()
    with pytest.raises(JuryRuleViolation) as refused:
        assign_member(
            session=db, actor=SYSTEM, jury_session=jury, user=manager, quality="expert", now=NOW
        )
    rules = {p.rule for p in refused.value.problems}
    assert {"employeur", "hierarchie"} <= rules


def test_jury_members_see_only_their_convened_candidates(db: Session) -> None:
    from portal.permissions import parcours_visible

    world = build_world(db)
    jury, expert = _ready(db, world)
    president = world.people["jury_pro"]
    assert parcours_visible(db, president, world.own.id) is None
    convene(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        parcours=world.own,
        at=datetime(2027, 2, 9, 9, 30, tzinfo=UTC),
        not_ready=None,
        now=NOW,
    )
    assert parcours_visible(db, president, world.own.id) is not None
    assert parcours_visible(db, expert, world.own.id) is not None
    assert parcours_visible(db, president, world.foreign.id) is None
    expert.organisation_id = world.cpam.id  # never a candidate of one's own organisme
    db.flush()
    assert parcours_visible(db, expert, world.own.id) is None


def test_a_trainer_of_the_candidate_may_not_sit_on_their_jury(db: Session) -> None:
    from vae.parcours.service import add_trainer

    world = build_world(db)
    jury, expert = _ready(db, world)
    add_trainer(session=db, actor=SYSTEM, parcours=world.own, trainer=expert, now=NOW)
    with pytest.raises(JuryRuleViolation) as refused:
        convene(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            parcours=world.own,
            at=datetime(2027, 2, 9, 9, 30, tzinfo=UTC),
            not_ready=None,
            now=NOW,
        )
    assert "Maladie Expert a été tuteur ou formateur de Candidat Test" in str(refused.value)
