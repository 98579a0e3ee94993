"""What the review found on the evaluation (issue 8): the held blocs snapshot (CCPs issued by the
platform count), who signs (the members who sit for the candidate), the administrator's
reopening, the re-verified signature, the day of the interview, and the recours after the
proclamation or a waiver."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests.decision import NOW, Jury, branche_peer, ccp, certification, complete, jury_for
from tests.portal.world import World, build_world
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.decision import evaluation as service
from vae.decision import recours, reopen
from vae.decision.evaluation import GridInput
from vae.decision.held import current_held_blocs
from vae.decision.models import AvisSignature, Evaluation, NationalDossier, Proclamation
from vae.decision.signing import signature_state
from vae.jury.models import JuryMember, JurySession
from vae.people.models import Civility, Role, User
from vae.people.service import create_user


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def jury(db: Session, world: World) -> Jury:
    return jury_for(db, world.own, world.people["jury_pro"], branche_peer(db, world.own))


def actor(user: User) -> Actor:
    return Actor(user.id, user.full_name, "203.0.113.7")


def save(db: Session, jury: Jury, grid: GridInput, lock: int = 0, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return service.save_grid(
        session=db,
        actor=actor(jury.president),
        user=jury.president,
        convocation=jury.convocation,
        grid=grid,
        lock_version=lock,
        now=now,
    )


def sign(db: Session, evaluation: Evaluation, user: User, now: datetime = NOW) -> AvisSignature:
    return service.sign(
        session=db,
        actor=actor(user),
        user=user,
        evaluation=evaluation,
        confirmed_hash=service.content_digest(db, evaluation),
        now=now,
    )


def signed(db: Session, jury: Jury) -> Evaluation:
    evaluation = save(db, jury, complete(certification(db, "COS")))
    sign(db, evaluation, jury.president)
    sign(db, evaluation, jury.expert)
    assert evaluation.signed_at == NOW
    return evaluation


def audits(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- P1-3: the held blocs --------------------------------------------------------------------


def test_ccps_issued_by_the_platform_are_held_and_snapshotted(
    db: Session, world: World, jury: Jury
) -> None:
    ccp(db, world.own, "GRU")
    ccp(db, world.own, "POS", revoked=True)  # a revoked CCP is not held
    ccp(db, world.own, "GDU")  # a bloc of the GC only: not a bloc of this COS
    assert current_held_blocs(db, world.own) == {"GRU"}
    with pytest.raises(service.GridRejected, match="déjà détenu"):
        save(db, jury, GridInput(marks={"GRU-C1-1": True}))
    cos = certification(db, "COS")
    evaluation = save(db, jury, complete(cos, held=frozenset({"GRU"})))
    assert evaluation.held_blocs == ["GRU"] and evaluation.held == {"GRU"}
    assert {a.bloc_key for a in evaluation.avis} == {"MDR", "POS", "TD"}
    digest = service.content_digest(db, evaluation)
    assert service.signature_problems(evaluation, cos, evaluation.held) == {}
    sign(db, evaluation, jury.president)
    # a CCP issued afterwards changes neither what this grid is about nor the signed hash
    ccp(db, world.own, "MDR")
    assert current_held_blocs(db, world.own) == {"GRU", "MDR"}
    db.expire_all()
    assert evaluation.held == {"GRU"} and service.content_digest(db, evaluation) == digest
    assert signature_state(evaluation) == "frozen"
    sign(db, evaluation, jury.expert)
    assert signature_state(evaluation) == "signed"


# --- P1-4: who signs, and reopening ----------------------------------------------------------


def _member(db: Session, jury: Jury, organisation_id: int, email: str) -> User:
    from vae.people.models import Organisation

    organisation = db.get(Organisation, organisation_id)
    assert organisation is not None
    user = create_user(
        session=db,
        actor=Actor.system("tests"),
        email=email,
        civility=Civility.MME,
        first_name="Iris",
        last_name="Autrebranche",
        organisation=organisation,
        roles={Role.JURY_PRO},
    )
    db.add(JuryMember(session_id=jury.session.id, user_id=user.id, quality="expert"))
    db.flush()
    db.refresh(jury.session)
    return user


def test_a_third_member_of_another_branche_neither_signs_nor_blocks(
    db: Session, world: World, jury: Jury
) -> None:
    other = _member(db, jury, world.caf.id, "famille@test.fr")  # famille, the candidate: maladie
    evaluation = save(db, jury, complete(certification(db, "COS")))
    with pytest.raises(service.NotASigner, match="Vous ne siégez pas pour ce candidat"):
        sign(db, evaluation, other)
    sign(db, evaluation, jury.president)
    assert service.session_states(db, jury.session) == {jury.convocation.id: "signée 1/2"}
    sign(db, evaluation, jury.expert)
    assert evaluation.signed_at == NOW  # two of the three members: every required signer
    assert service.session_states(db, jury.session) == {jury.convocation.id: "signée 2/2"}
    assert audits(db, "evaluation.signed")[0].details["required"] == sorted(
        {jury.president.id, jury.expert.id}
    )


def test_the_administrator_reopens_a_frozen_avis_with_a_reason(
    db: Session, world: World, jury: Jury
) -> None:
    admin = world.people["admin"]
    evaluation = save(db, jury, complete(certification(db, "COS")))
    first = sign(db, evaluation, jury.president)
    frozen_hash = evaluation.content_hash

    def do(user: User, reason: str = "L'expert refuse de signer.") -> Evaluation:
        return reopen.reopen(
            session=db, actor=actor(user), user=user, evaluation=evaluation, reason=reason, now=NOW
        )

    with pytest.raises(service.NotAllowed):
        do(jury.president)
    with pytest.raises(service.GridInvalid) as short:
        do(admin, "  Refus  ")
    assert "10 caractères" in short.value.errors["reason"]
    do(admin)
    assert evaluation.content_hash is None and evaluation.frozen_at is None
    assert evaluation.signatures == [] and db.scalar(select(AvisSignature)) is None
    entry = audits(db, "evaluation.reopen")[0]
    assert entry.details["reason"] == "L'expert refuse de signer."
    assert entry.details["content_hash"] == frozen_hash
    assert entry.details["signatures"] == [
        {
            "user_id": jury.president.id,
            "name": jury.president.full_name,
            "quality": "president",
            "content_hash": frozen_hash,
            "signed_at": first.signed_at.isoformat(),
            "audit_seq": first.audit_seq,
        }
    ]
    with pytest.raises(reopen.ReopenRefused, match="rien à rouvrir"):
        do(admin)
    # the members edit and sign again
    grid = complete(certification(db, "COS"))
    edited = save(db, jury, replace(grid, comments={"GRU-C1": "Précisé après réouverture."}), 1)
    assert edited is evaluation and edited.comments == {"GRU-C1": "Précisé après réouverture."}
    sign(db, evaluation, jury.president)
    sign(db, evaluation, jury.expert)
    assert evaluation.signed and evaluation.content_hash != frozen_hash


def test_no_reopening_once_on_a_national_agenda_or_answered(
    db: Session, world: World, jury: Jury
) -> None:
    admin = world.people["admin"]
    evaluation = signed(db, jury)
    national = JurySession(kind="national", day=date(2027, 3, 9), place="Paris", capacity=50)
    db.add(national)
    db.flush()
    dossier = NationalDossier(
        session_id=national.id, evaluation_id=evaluation.id, parcours_id=world.own.id
    )
    db.add(dossier)
    db.flush()
    with pytest.raises(reopen.ReopenRefused, match="ordre du jour d'une session nationale"):
        reopen.reopen(
            session=db,
            actor=actor(admin),
            user=admin,
            evaluation=evaluation,
            reason="Un membre conteste.",
            now=NOW,
        )
    db.delete(dossier)
    db.flush()
    _waive(db, world, evaluation)
    with pytest.raises(reopen.ReopenRefused, match="recours ou renonciation"):
        reopen.reopen(
            session=db,
            actor=actor(admin),
            user=admin,
            evaluation=evaluation,
            reason="Un membre conteste.",
            now=NOW,
        )
    assert len(evaluation.signatures) == 2


# --- P1-5: the signature re-verified ---------------------------------------------------------


def test_a_content_changed_behind_the_applications_back_breaks_the_signature(
    db: Session, world: World, jury: Jury
) -> None:
    evaluation = save(db, jury, complete(certification(db, "COS")))
    assert signature_state(evaluation) == "draft"
    sign(db, evaluation, jury.president)
    assert signature_state(evaluation) == "frozen"
    sign(db, evaluation, jury.expert)
    assert signature_state(evaluation) == "signed"
    db.execute(text("UPDATE bloc_avis SET recommendations = 'TAMPERED' WHERE bloc_key = 'TD'"))
    db.expire_all()
    assert signature_state(evaluation) == "broken"
    assert service.session_states(db, jury.session) == {jury.convocation.id: "signature rompue"}
    candidate = world.people["candidat"]
    with pytest.raises(service.GridInvalid, match="Signature rompue"):
        recours.file_recours(
            session=db,
            actor=actor(candidate),
            user=candidate,
            evaluation=evaluation,
            text=RECOURS,
            now=NOW,
            days=15,
        )
    # a signature of another hash breaks it too
    db.execute(text("UPDATE bloc_avis SET recommendations = '' WHERE bloc_key = 'TD'"))
    db.execute(update(AvisSignature).values(content_hash="f" * 64).where(AvisSignature.id > 0))
    db.expire_all()
    assert signature_state(evaluation) == "broken"


# --- P1-2: the day of the interview ----------------------------------------------------------


def test_the_grid_opens_on_the_paris_day_of_the_interview(db: Session, jury: Jury) -> None:
    jury.convocation.at = datetime(2027, 2, 9, 8, 30, tzinfo=UTC)
    db.flush()
    eve = datetime(2027, 2, 8, 22, 59, tzinfo=UTC)  # 23:59 on the 8th in Paris
    with pytest.raises(service.TooEarly) as early:
        save(db, jury, GridInput(marks={"GRU-C1-1": True}), now=eve)
    assert str(early.value) == (
        "L'entretien a lieu le 9 février 2027 : la grille s'ouvre le jour de l'entretien."
    )
    assert db.scalar(select(Evaluation)) is None
    midnight = datetime(2027, 2, 8, 23, 0, tzinfo=UTC)  # 00:00 on the 9th in Paris
    evaluation = save(db, jury, complete(certification(db, "COS")), now=midnight)
    assert evaluation is not None
    with pytest.raises(service.TooEarly):
        sign(db, evaluation, jury.president, now=eve)
    assert sign(db, evaluation, jury.president, now=midnight).signed_at == midnight


# --- P1-1: the recours after the proclamation, and the waiver ---------------------------------


RECOURS = "Je conteste l'avis sur le bloc TD : la situation présentée couvrait bien C16 et C17."


def _file(db: Session, world: World, evaluation: Evaluation, now: datetime = NOW):  # type: ignore[no-untyped-def]
    candidate = world.people["candidat"]
    return recours.file_recours(
        session=db,
        actor=actor(candidate),
        user=candidate,
        evaluation=evaluation,
        text=RECOURS,
        now=now,
        days=15,
    )


def _waive(db: Session, world: World, evaluation: Evaluation, confirmed: bool = True):  # type: ignore[no-untyped-def]
    candidate = world.people["candidat"]
    return recours.waive_recours(
        session=db,
        actor=actor(candidate),
        user=candidate,
        evaluation=evaluation,
        confirmed=confirmed,
        now=NOW + timedelta(hours=2),
        days=15,
    )


def test_no_recours_once_the_decision_is_proclaimed(db: Session, world: World, jury: Jury) -> None:
    evaluation = signed(db, jury)
    national = JurySession(kind="national", day=date(2027, 2, 10), place="Paris", capacity=50)
    db.add(national)
    db.flush()
    db.add(
        NationalDossier(
            session_id=national.id, evaluation_id=evaluation.id, parcours_id=world.own.id
        )
    )
    db.flush()
    assert recours.proclaimed_at(db, evaluation) is None
    proclaimed = NOW + timedelta(days=1)
    db.add(Proclamation(session_id=national.id, proclaimed_at=proclaimed))
    db.flush()
    assert recours.proclaimed_at(db, evaluation) == proclaimed
    with pytest.raises(service.GridInvalid) as refused:
        _file(db, world, evaluation, now=NOW + timedelta(days=2))  # within the 15 days
    assert refused.value.errors == {
        "text": "La décision a été proclamée : le recours n'est plus possible."
    }
    with pytest.raises(service.GridInvalid, match="proclamée"):
        _waive(db, world, evaluation)


def test_the_candidate_waives_the_recours(db: Session, world: World, jury: Jury) -> None:
    evaluation = signed(db, jury)
    with pytest.raises(service.NotAllowed):
        recours.waive_recours(
            session=db,
            actor=actor(world.people["other_candidat"]),
            user=world.people["other_candidat"],
            evaluation=evaluation,
            confirmed=True,
            now=NOW,
            days=15,
        )
    with pytest.raises(service.GridInvalid) as unconfirmed:
        _waive(db, world, evaluation, confirmed=False)
    assert "Cochez la case" in unconfirmed.value.errors["confirm"]
    waiver = _waive(db, world, evaluation)
    assert waiver.waived and waiver.text == "" and waiver.filed_at == NOW + timedelta(hours=2)
    assert _waive(db, world, evaluation) is waiver  # a double submission
    entry = audits(db, "recours.waive")[0]
    assert entry.subject_id == world.people["candidat"].id and entry.object_id == str(evaluation.id)
    with pytest.raises(service.GridInvalid, match="renoncé au recours"):
        _file(db, world, evaluation)


def test_no_waiver_after_a_recours(db: Session, world: World, jury: Jury) -> None:
    evaluation = signed(db, jury)
    filed = _file(db, world, evaluation)
    assert not filed.waived
    with pytest.raises(service.GridInvalid) as refused:
        _waive(db, world, evaluation)
    assert refused.value.errors == {"confirm": "Un recours a déjà été déposé contre cet avis."}
    assert audits(db, "recours.waive") == []
