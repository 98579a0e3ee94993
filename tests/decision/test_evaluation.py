"""The evaluation service: the grid saved under the rules, locking, freezing, the hash both
members sign, and the recours window."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.decision import NOW, Jury, branche_peer, certification, complete, jury_for
from tests.portal.world import World, build_world
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.decision import evaluation as service
from vae.decision import recours
from vae.decision.evaluation import AvisInput, GridInput
from vae.decision.models import Evaluation
from vae.parcours.models import HeldBloc
from vae.people.models import Civility, Role
from vae.people.service import create_user


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def jury(db: Session, world: World) -> Jury:
    return jury_for(db, world.own, world.people["jury_pro"], branche_peer(db, world.own))


def actor(user) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(user.id, user.full_name, "203.0.113.7")


def save(db: Session, jury: Jury, grid: GridInput, lock: int, user=None):  # type: ignore[no-untyped-def]
    user = user or jury.president
    return service.save_grid(
        session=db,
        actor=actor(user),
        user=user,
        convocation=jury.convocation,
        grid=grid,
        lock_version=lock,
        now=NOW,
    )


def audits(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def sign(db: Session, jury: Jury, evaluation: Evaluation, user, digest=None, now=NOW):  # type: ignore[no-untyped-def]
    return service.sign(
        session=db,
        actor=actor(user),
        user=user,
        evaluation=evaluation,
        confirmed_hash=digest or service.content_digest(db, evaluation),
        now=now,
    )


def test_first_save_opens_the_evaluation_and_the_same_content_is_a_no_op(
    db: Session, jury: Jury
) -> None:
    assert save(db, jury, GridInput(), 0) is None  # nothing to save: nothing opened
    grid = GridInput(marks={"GRU-C1-1": True, "GRU-C1-2": False}, comments={"GRU-C1": "Clair."})
    evaluation = save(db, jury, grid, 0)
    assert evaluation is not None and evaluation.lock_version == 1
    assert evaluation.marks == {"GRU-C1-1": True, "GRU-C1-2": False}
    assert evaluation.comments == {"GRU-C1": "Clair."}
    assert {a.bloc_key for a in evaluation.avis} == {"GRU", "MDR", "POS", "TD"}
    assert len(audits(db, "evaluation.save")) == 1
    again = save(db, jury, grid, 0)  # a stale lock, but nothing changes: no conflict
    assert again is evaluation and evaluation.lock_version == 1
    assert len(audits(db, "evaluation.save")) == 1


def test_a_stale_lock_version_is_a_conflict_carrying_the_current_grid(
    db: Session, jury: Jury
) -> None:
    save(db, jury, GridInput(marks={"GRU-C1-1": True}), 0)
    with pytest.raises(service.GridConflict) as caught:
        save(db, jury, GridInput(marks={"GRU-C1-1": False}), 0, user=jury.expert)
    assert caught.value.current is not None
    assert caught.value.current.marks == {"GRU-C1-1": True}


def test_unknown_criteria_and_criteria_of_held_blocs_are_rejected(
    db: Session, world: World, jury: Jury
) -> None:
    with pytest.raises(service.GridRejected, match="Critère inconnu"):
        save(db, jury, GridInput(marks={"GDU-C1-1": True}), 0)  # a GC bloc, not COS
    db.add(HeldBloc(parcours_id=world.own.id, bloc_key="GRU", origin="CCP GRU 2024"))
    db.flush()
    db.refresh(world.own)
    with pytest.raises(service.GridRejected, match="déjà détenu"):
        save(db, jury, GridInput(marks={"GRU-C1-1": True}), 0)
    with pytest.raises(service.GridRejected):
        save(db, jury, GridInput(avis={"GRU": AvisInput(True)}), 0)


def test_a_comment_over_4000_characters_is_refused_next_to_its_field(
    db: Session, jury: Jury
) -> None:
    with pytest.raises(service.GridInvalid) as caught:
        save(db, jury, GridInput(comments={"GRU-C2": "x" * 4001}), 0)
    assert "4000" in caught.value.errors["comment-GRU-C2"]
    assert db.scalar(select(Evaluation)) is None


def test_only_members_not_of_the_candidates_organisme_may_write(
    db: Session, world: World, jury: Jury
) -> None:
    outsider = world.people["jury_national"]
    with pytest.raises(service.NotAllowed):
        save(db, jury, GridInput(marks={"GRU-C1-1": True}), 0, user=outsider)
    colleague = create_user(
        session=db,
        actor=Actor.system("tests"),
        email="collegue@test.fr",
        civility=Civility.MME,
        first_name="Léa",
        last_name="Collègue",
        organisation=world.cpam,  # the candidate's own employer
        roles={Role.JURY_PRO},
    )
    from vae.jury.models import JuryMember

    db.add(JuryMember(session_id=jury.session.id, user_id=colleague.id, quality="expert"))
    db.flush()
    assert service.membership(db, colleague, jury.convocation) is None
    with pytest.raises(service.NotAllowed):
        save(db, jury, GridInput(marks={"GRU-C1-1": True}), 0, user=colleague)


def test_what_stops_the_signature_is_listed_per_bloc(db: Session, jury: Jury) -> None:
    cos = certification(db, "COS")
    grid = complete(cos)
    partial = {k: v for k, v in grid.marks.items() if not k.startswith("TD-")}
    avis = dict(grid.avis)
    avis["POS"] = AvisInput(False)  # departs from the grid, no justification, no préconisations
    avis["TD"] = AvisInput(None)
    evaluation = save(db, jury, GridInput(partial, {}, avis), 0)
    problems = service.signature_problems(evaluation, cos, frozenset())
    assert set(problems) == {"POS", "TD"}
    assert "critère(s) non renseigné(s)" in problems["TD"]["criteria"]
    assert "TD-C15-1" in problems["TD"]["criteria"]
    assert problems["TD"]["favourable"].startswith("Indiquez")
    assert "justifiez" in problems["POS"]["justification"]
    assert "préconisations" in problems["POS"]["recommendations"].lower()
    with pytest.raises(service.SignatureRefused) as caught:
        sign(db, jury, evaluation, jury.president)
    assert set(caught.value.problems) == {"POS", "TD"}
    assert evaluation.content_hash is None


def test_both_members_sign_the_same_frozen_hash(db: Session, jury: Jury) -> None:
    cos = certification(db, "COS")
    evaluation = save(db, jury, complete(cos), 0)
    digest = service.content_digest(db, evaluation)
    first = sign(db, jury, evaluation, jury.president, digest)
    assert (first.quality, first.content_hash, first.ip) == ("president", digest, "203.0.113.7")
    assert evaluation.content_hash == digest and evaluation.frozen_at == NOW
    assert evaluation.signed_at is None  # one member of two
    entry = audits(db, "evaluation.sign")[0]
    assert entry.details["content_hash"] == digest and first.audit_seq == entry.seq
    # frozen: no edit, even by the other member
    with pytest.raises(service.Frozen, match="signé par Jurypro Test"):
        save(db, jury, GridInput(marks={"GRU-C1-1": False}), evaluation.lock_version)
    # a double submission is one signature
    assert sign(db, jury, evaluation, jury.president, digest) is first
    later = NOW + timedelta(hours=1)
    second = sign(db, jury, evaluation, jury.expert, digest, now=later)
    assert second.content_hash == digest and second.quality == "expert"
    assert evaluation.signed_at == later
    assert len(evaluation.signatures) == 2
    assert audits(db, "evaluation.signed")[0].details["content_hash"] == digest
    assert service.session_states(db, jury.session) == {jury.convocation.id: "signée 2/2"}


def test_a_stale_confirmation_or_a_tampered_content_is_refused(db: Session, jury: Jury) -> None:
    cos = certification(db, "COS")
    evaluation = save(db, jury, complete(cos), 0)
    with pytest.raises(service.GridConflict):
        sign(db, jury, evaluation, jury.president, "0" * 64)
    sign(db, jury, evaluation, jury.president)
    evaluation.marks = {**evaluation.marks, "GRU-C1-1": False}  # behind the application's back
    db.flush()
    with pytest.raises(service.SignatureRefused, match="Signature rompue"):
        sign(db, jury, evaluation, jury.expert, evaluation.content_hash)
    assert evaluation.signed_at is None


def _signed(db: Session, jury: Jury) -> Evaluation:
    cos = certification(db, "COS")
    grid = complete(cos)
    grid = replace(
        grid, avis={**grid.avis, "TD": AvisInput(False, "Entretien hésitant.", "Revoir le TD.")}
    )
    evaluation = save(db, jury, grid, 0)
    sign(db, jury, evaluation, jury.president)
    sign(db, jury, evaluation, jury.expert)
    assert evaluation.signed_at == NOW
    return evaluation


TEXT = "Je conteste l'avis sur le bloc TD : la situation présentée couvrait bien C16 et C17."


def test_the_recours_window_and_its_rules(db: Session, world: World, jury: Jury) -> None:
    candidate = world.people["candidat"]
    evaluation = _signed(db, jury)

    def file(text: str, now=NOW + timedelta(days=1), user=candidate):  # type: ignore[no-untyped-def]
        return recours.file_recours(
            session=db,
            actor=actor(user),
            user=user,
            evaluation=evaluation,
            text=text,
            now=now,
            days=15,
        )

    with pytest.raises(service.NotAllowed):
        file(TEXT, user=world.people["other_candidat"])
    with pytest.raises(service.GridInvalid, match="50 caractères"):
        file("Trop court.")
    with pytest.raises(service.GridInvalid, match="10000"):
        file("x" * 10001)
    with pytest.raises(service.GridInvalid, match="expiré"):
        file(TEXT, now=NOW + timedelta(days=15, seconds=1))
    filed = file(TEXT, now=NOW + timedelta(days=15))  # the last moment is still in time
    assert filed.text == TEXT and filed.filed_by_id == candidate.id
    assert audits(db, "recours.file")[0].subject_id == candidate.id
    assert file(TEXT) is filed  # a double submission
    with pytest.raises(service.GridInvalid, match="déjà été déposé"):
        file(TEXT + " Et autre chose encore.")
    loaded = service.load_for_parcours(db, world.own.id)
    assert loaded is evaluation and loaded.recours is filed
    assert service.load(db, evaluation.id) is evaluation


def test_no_recours_before_the_avis_is_signed(db: Session, world: World, jury: Jury) -> None:
    evaluation = save(db, jury, complete(certification(db, "COS")), 0)
    candidate = world.people["candidat"]
    with pytest.raises(service.NotAllowed):
        recours.file_recours(
            session=db,
            actor=actor(candidate),
            user=candidate,
            evaluation=evaluation,
            text=TEXT,
            now=NOW,
            days=15,
        )
    assert service.session_states(db, jury.session) == {jury.convocation.id: "en cours"}
