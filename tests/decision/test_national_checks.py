"""What stops a national deliberation (review of issue 8): the recours period, the dates, a broken
signature, stale or oversized decisions; the blocs held at proclamation; taking a dossier off the
agenda."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.portal.policy_national import (
    SIGNED_AT,
    certification_of,
    decide_as_avis,
    national_session,
    on_agenda,
    signed_evaluation,
)
from tests.portal.world import SYSTEM, World, build_world
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.decision import national, proclamation, rules
from vae.decision.models import Certificate, Deliberation, Evaluation, NationalDossier
from vae.decision.national import Choice
from vae.decision.rules import DossierFacts
from vae.parcours.models import HeldBloc, Parcours

NOW = datetime(2027, 3, 18, 23, 30, tzinfo=UTC)  # already the 19th in Paris
DEADLINE = datetime(2027, 3, 10, 16, tzinfo=UTC)  # 17:00 in Paris
_codes = itertools.count(1)


def _proclaim(db: Session, jury: Any, *, now: datetime = NOW) -> proclamation.Proclaimed:
    return proclamation.proclaim(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        certifications=lambda p: certification_of(db, p),
        prerequisites=lambda route: (),
        new_code=lambda: f"CHECK-{next(_codes):06d}",
        recours_days=15,
        now=now,
    )


def _dossier(db: Session, world: World, parcours: Parcours, **kw: Any) -> NationalDossier:
    jury = national_session(db)
    evaluation = signed_evaluation(db, parcours, signer=world.people["jury_pro"], **kw)
    dossier = on_agenda(db, jury, evaluation)
    decide_as_avis(db, dossier)
    return dossier


# --- pure rules ----------------------------------------------------------------------------


def facts(
    *, deadline: datetime | None = DEADLINE, closed: bool = False, broken: bool = False
) -> DossierFacts:
    return DossierFacts(
        "A. Martin",
        True,
        ("GRU",),
        frozenset({"GRU"}),
        recours_deadline=deadline,
        recours_closed=closed,
        signature_broken=broken,
    )


@pytest.mark.parametrize(
    ("dossier", "now", "expected"),
    [
        # the period runs: neither recours nor waiver
        (
            facts(),
            DEADLINE,
            [
                "A. Martin : le délai de recours court jusqu'au 10/03/2027 à 17:00 "
                "(ni recours ni renonciation)."
            ],
        ),
        (facts(), DEADLINE + timedelta(seconds=1), []),  # over
        (facts(closed=True), DEADLINE - timedelta(days=3), []),  # filed or waived
        (
            facts(broken=True),
            DEADLINE + timedelta(days=1),
            ["A. Martin : signature de l'avis rompue, le contenu a changé depuis la signature."],
        ),
    ],
)
def test_proclamation_problems_recours_and_signature(
    dossier: DossierFacts, now: datetime, expected: list[str]
) -> None:
    assert rules.proclamation_problems([dossier], now=now) == expected


@pytest.mark.parametrize(
    ("signed_at", "filed", "waived", "now", "state"),
    [
        (None, False, False, NOW, "unsigned"),
        (SIGNED_AT, False, False, SIGNED_AT + timedelta(days=15), "open"),
        (SIGNED_AT, False, False, SIGNED_AT + timedelta(days=15, seconds=1), "expired"),
        (SIGNED_AT, True, False, SIGNED_AT + timedelta(days=1), "filed"),
        (SIGNED_AT, True, True, SIGNED_AT + timedelta(days=1), "waived"),
    ],
)
def test_recours_status(
    signed_at: datetime | None, filed: bool, waived: bool, now: datetime, state: str
) -> None:
    status = rules.recours_status(signed_at=signed_at, filed=filed, waived=waived, now=now, days=15)
    assert status.state == state
    assert status.deadline == (signed_at + timedelta(days=15) if signed_at else None)


@pytest.mark.parametrize(
    ("session_day", "now", "refused"),
    [
        (date(2027, 3, 19), datetime(2027, 3, 18, 22, 59, tzinfo=UTC), True),  # 23:59 in Paris
        (date(2027, 3, 19), datetime(2027, 3, 18, 23, 0, tzinfo=UTC), False),  # midnight
        (date(2027, 3, 1), NOW, False),
    ],
)
def test_proclamation_day(session_day: date, now: datetime, refused: bool) -> None:
    problem = rules.proclamation_day_problem(session_day=session_day, now=now)
    assert (problem is not None) is refused
    if refused:
        assert problem == (
            "La session nationale a lieu le 19/03/2027 : "
            "la proclamation se fait ce jour-là ou après."
        )


@pytest.mark.parametrize(
    ("session_day", "signed_at", "refused"),
    [
        (date(2027, 2, 10), datetime(2027, 2, 10, 23, 30, tzinfo=UTC), True),  # 11th in Paris
        (date(2027, 2, 11), datetime(2027, 2, 10, 23, 30, tzinfo=UTC), False),
        (date(2027, 3, 18), SIGNED_AT, False),
    ],
)
def test_schedule_after_the_signature(
    session_day: date, signed_at: datetime, refused: bool
) -> None:
    problem = rules.schedule_problem(session_day=session_day, signed_at=signed_at)
    assert (problem is not None) is refused


@pytest.mark.parametrize(
    ("snapshot", "certified", "refused", "held"),
    [
        ({"GRU", "MDR"}, set(), set(), {"GRU", "MDR"}),
        ({"GRU"}, {"POS"}, set(), {"GRU", "POS"}),
        # decided "non validé": only a real CCP keeps it held
        ({"MDR"}, set(), {"MDR"}, set()),
        ({"MDR"}, {"MDR"}, {"MDR"}, {"MDR"}),
    ],
)
def test_held_at_proclamation(
    snapshot: set[str], certified: set[str], refused: set[str], held: set[str]
) -> None:
    assert rules.held_at_proclamation(
        snapshot=snapshot, certified=certified, refused=refused
    ) == frozenset(held)


def test_reason_length() -> None:
    assert rules.reason_problem("x" * rules.REASON_MAX) is None
    assert rules.reason_problem("x" * (rules.REASON_MAX + 1)) == (
        "Le motif ne doit pas dépasser 4000 caractères (4001 saisis)."
    )


# --- the service ---------------------------------------------------------------------------


def test_proclamation_waits_for_the_recours_period_or_a_waiver(db: Session) -> None:
    world = build_world(db)
    recent = NOW - timedelta(days=3)
    _dossier(db, world, world.own, signed_at=recent)
    jury = db.scalars(select(NationalDossier)).one().session
    with pytest.raises(national.ProclamationRefused) as refused:
        _proclaim(db, jury)
    assert refused.value.problems == [
        "Candidat Test : le délai de recours court jusqu'au 31/03/2027 à 01:30 "
        "(ni recours ni renonciation)."
    ]
    assert db.scalars(select(Certificate)).all() == []


def test_a_waived_or_filed_recours_ends_the_period(db: Session) -> None:
    world = build_world(db)
    recent = NOW - timedelta(days=3)
    jury = national_session(db)
    for parcours, kw in ((world.own, {"waived": True}), (world.foreign, {"recours": "Motifs."})):
        evaluation = signed_evaluation(
            db, parcours, signer=world.people["jury_pro"], signed_at=recent, **kw
        )
        decide_as_avis(db, on_agenda(db, jury, evaluation))
    done = _proclaim(db, jury)
    assert len(done.outcomes) == 2 and done.certificates


def test_no_proclamation_before_the_session_day(db: Session) -> None:
    world = build_world(db)
    dossier = _dossier(db, world, world.own)
    with pytest.raises(national.NationalError, match="a lieu le 18/03/2027 : la proclamation"):
        _proclaim(db, dossier.session, now=datetime(2027, 3, 17, 22, tzinfo=UTC))
    _proclaim(db, dossier.session, now=datetime(2027, 3, 17, 23, tzinfo=UTC))  # Paris midnight


def test_the_agenda_refuses_a_session_before_the_signature(db: Session) -> None:
    world = build_world(db)
    evaluation = signed_evaluation(db, world.own, signer=world.people["jury_pro"])
    early = national_session(db, date(2027, 2, 9))
    with pytest.raises(national.NationalError, match="précède la signature de l'avis"):
        national.add_dossier(
            session=db, actor=SYSTEM, jury_session=early, evaluation=evaluation, now=NOW
        )
    same_day = national_session(db, date(2027, 2, 10))
    national.add_dossier(
        session=db, actor=SYSTEM, jury_session=same_day, evaluation=evaluation, now=NOW
    )


def test_a_broken_signature_is_neither_scheduled_nor_proclaimed(db: Session) -> None:
    world = build_world(db)
    tampered = signed_evaluation(db, world.foreign, signer=world.people["jury_pro"])
    tampered.avis[0].recommendations = "TAMPERED"
    db.flush()
    with pytest.raises(national.NationalError, match="Signature de l'avis rompue"):
        national.add_dossier(
            session=db,
            actor=SYSTEM,
            jury_session=national_session(db),
            evaluation=tampered,
            now=NOW,
        )
    dossier = _dossier(db, world, world.own)
    dossier.evaluation.marks = {**dossier.evaluation.marks, "x": True}
    db.flush()
    with pytest.raises(national.ProclamationRefused) as refused:
        _proclaim(db, dossier.session)
    assert refused.value.problems == [
        "Candidat Test : signature de l'avis rompue, le contenu a changé depuis la signature."
    ]


@pytest.mark.parametrize("ccp", [False, True])
def test_a_refused_bloc_stays_missing_unless_a_real_ccp_holds_it(db: Session, ccp: bool) -> None:
    """MDR evaluated and decided "non validé": a HeldBloc row declared afterwards does not turn
    it acquired (the evaluation's snapshot is what counts); a CCP obtained since does."""
    world = build_world(db)
    dossier = _dossier(db, world, world.own, favourable={"MDR": False})
    assert dossier.evaluation.held == frozenset()
    db.add(HeldBloc(parcours_id=world.own.id, bloc_key="MDR", origin="déclaré après coup"))
    if ccp:  # e.g. proclaimed on another parcours while this one was deliberated
        db.add(
            Certificate(
                code="EARLIER-MDR",
                kind="ccp",
                holder_id=world.own.candidate_id,
                parcours_id=world.foreign.id,
                certification_code="RNCP35729",
                certification_short="GC",
                certification_title="Gestionnaire conseil",
                bloc_key="MDR",
                route="vae",
                issued_on=date(2027, 3, 1),
                holder_first_name="Candidat",
                holder_last_name="Test",
            )
        )
    db.flush()
    db.refresh(world.own)
    assert "MDR" in world.own.held_bloc_keys
    outcome = _proclaim(db, dossier.session).outcomes[0]
    issued = [(c.kind, c.bloc_key) for c in outcome.certificates]
    if ccp:
        assert outcome.issuance.cqp and ("ccp", "MDR") not in issued
    else:
        assert outcome.issuance.missing_blocs == ("MDR",) and not outcome.issuance.cqp
        assert issued == [("ccp", "GRU"), ("ccp", "POS"), ("ccp", "TD")]


def test_stale_or_oversized_decisions_are_refused(db: Session) -> None:
    world = build_world(db)
    dossier = _dossier(db, world, world.own)
    first = national.decisions_version(dossier)
    member = world.people["jury_national"]
    other = Actor(user_id=member.id, label=member.full_name, ip="127.0.0.1")
    keep = {k: Choice(True, "") for k in ("GRU", "MDR", "POS", "TD")}
    changed = keep | {"GRU": Choice(False, "Le jury national n'est pas convaincu.")}
    national.record_decisions(
        session=db, actor=other, dossier=dossier, choices=changed, version=first, now=NOW
    )
    assert national.decisions_version(dossier) != first
    with pytest.raises(national.DecisionConflict) as stale:  # a form built on the first ones
        national.record_decisions(
            session=db, actor=SYSTEM, dossier=dossier, choices=keep, version=first, now=NOW
        )
    assert stale.value.by == member.full_name
    with pytest.raises(national.DecisionConflict):  # no token at all: nothing overwritten
        national.record_decisions(
            session=db, actor=SYSTEM, dossier=dossier, choices=keep, version=None, now=NOW
        )
    with pytest.raises(national.DecisionErrors) as refused:
        national.record_decisions(
            session=db,
            actor=SYSTEM,
            dossier=dossier,
            choices=keep | {"MDR": Choice(None, "x" * 5000)},
            version=national.decisions_version(dossier),
            now=NOW,
        )
    assert refused.value.errors == {
        "reason-MDR": "Le motif ne doit pas dépasser 4000 caractères (5000 saisis).",
        "validated-MDR": "Indiquez si le bloc MDR est validé ou non.",
    }
    saved = {d.bloc_key: d.validated for d in db.scalars(select(Deliberation))}
    assert saved == {"GRU": False, "MDR": True, "POS": True, "TD": True}


def test_a_dossier_leaves_the_agenda_before_proclamation_only(db: Session) -> None:
    world = build_world(db)
    dossier = _dossier(db, world, world.own)
    jury, evaluation_id, dossier_id = dossier.session, dossier.evaluation_id, dossier.id
    national.remove_dossier(session=db, actor=SYSTEM, dossier=dossier, now=NOW)
    assert db.scalars(select(NationalDossier)).all() == []
    assert db.scalars(select(Deliberation)).all() == []
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "national.remove_dossier")
    ).one()
    assert entry.object_id == str(dossier_id)
    assert entry.details["evaluation_id"] == evaluation_id
    assert entry.details["decisions"]["GRU"] == {"validated": True, "reason": ""}
    # back on the agenda, proclaimed: it stays
    evaluation = db.get(Evaluation, evaluation_id)
    again = national.add_dossier(
        session=db, actor=SYSTEM, jury_session=jury, evaluation=evaluation, now=NOW
    )
    decide_as_avis(db, again)
    _proclaim(db, jury)
    with pytest.raises(national.NationalError, match="déjà été proclamée") as refused:
        national.remove_dossier(session=db, actor=SYSTEM, dossier=again, now=NOW)
    assert refused.value.field == "remove"
    assert db.get(NationalDossier, again.id) is not None
