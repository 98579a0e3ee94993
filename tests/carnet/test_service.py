"""Attestations: drafts, signing bound to content, versions, conflicts, tampering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carnet.models import AttestationVersion
from carnet.service import (
    AttestationInput,
    CarnetConflict,
    CarnetValidation,
    NotAllowed,
    check_signature,
    save_draft,
    save_self_assessment,
    sign,
    version_hash,
)
from tests.portal.world import World, build_world
from vae.audit.service import Actor, verify
from vae.referentiel.model import Referentiel
from vae.referentiel.models import CompetenceRecord

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _input(**changes: object) -> AttestationInput:
    values: dict[str, object] = {
        "situation_date": "2026-11-03",
        "situation_kind": "accueil_physique",
        "description": "Accueil d'un assuré venu pour sa carte Vitale.",
        "observed": ["GRU-C1-1", "GRU-C1-2", "GRU-C1-3", "GRU-C1-4"],
        "verdict": "maitrisee",
        "comment": "",
    }
    values.update(changes)
    return AttestationInput(**values)  # type: ignore[arg-type]


def _row(db: Session, world: World, key: str) -> CompetenceRecord:
    version_id = world.own.certification.version_id
    return db.scalars(
        select(CompetenceRecord)
        .join(CompetenceRecord.bloc)
        .where(CompetenceRecord.key == key, CompetenceRecord.bloc.has(version_id=version_id))
    ).one()


def _draft(
    db: Session,
    world: World,
    referentiel: Referentiel,
    who: str = "tuteur",
    base: int = 0,
    lock: int = 0,
    **changes: object,
) -> AttestationVersion:
    user = world.people[who]
    return save_draft(
        session=db,
        actor=Actor(user.id, user.full_name, "10.0.0.1"),
        user=user,
        parcours=world.own,
        competence_row=_row(db, world, "GRU-C1"),
        competence=referentiel.blocs["GRU"].competence("GRU-C1"),
        data=_input(**changes),
        base_number=base,
        lock_version=lock,
        now=NOW,
    )


def _sign(db: Session, world: World, version: AttestationVersion, who: str = "tuteur"):  # type: ignore[no-untyped-def]
    user = world.people[who]
    return sign(
        session=db,
        actor=Actor(user.id, user.full_name, "10.0.0.1"),
        user=user,
        parcours=world.own,
        version=version,
        competence_key="GRU-C1",
        confirmed_hash=version_hash(version, world.own.id, "GRU-C1"),
        now=NOW,
    )


def test_sign_binds_signer_time_ip_and_content(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    version = _sign(db, world, _draft(db, world, referentiel))
    assert version.signed and version.signer_id == world.people["tuteur"].id
    assert version.signer_role == "tuteur" and version.signer_ip == "10.0.0.1"
    assert version.signed_at == NOW and len(version.content_hash or "") == 64
    check = check_signature(db, version, world.own.id, "GRU-C1")
    assert check.valid
    assert verify(db).ok


def test_tampering_with_signed_content_is_detected(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    version = _sign(db, world, _draft(db, world, referentiel))
    db.execute(
        update(AttestationVersion)
        .where(AttestationVersion.id == version.id)
        .values(description="Texte modifié après signature")
    )
    db.expire_all()
    check = check_signature(db, db.get(AttestationVersion, version.id), world.own.id, "GRU-C1")
    assert not check.valid and "ne correspond plus" in check.message
    # rewriting the stored hash too does not help: the audit entry keeps the signed one
    tampered = db.get(AttestationVersion, version.id)
    assert tampered is not None
    db.execute(
        update(AttestationVersion)
        .where(AttestationVersion.id == version.id)
        .values(content_hash=version_hash(tampered, world.own.id, "GRU-C1"))
    )
    db.expire_all()
    again = check_signature(db, db.get(AttestationVersion, version.id), world.own.id, "GRU-C1")
    assert not again.valid


def test_a_signed_version_never_changes_a_correction_is_a_new_version(
    db: Session, referentiel: Referentiel
) -> None:
    world = build_world(db)
    first = _sign(db, world, _draft(db, world, referentiel))
    correction = _draft(db, world, referentiel, base=1, description="Correction de la date.")
    assert correction.id != first.id and correction.number == 2 and not correction.signed
    assert first.description.startswith("Accueil")
    _sign(db, world, correction)
    assert [v.number for v in first.attestation.versions] == [1, 2]
    assert check_signature(db, first, world.own.id, "GRU-C1").valid


def test_stale_form_is_a_conflict_and_a_double_submission_creates_one(
    db: Session, referentiel: Referentiel
) -> None:
    world = build_world(db)
    first = _draft(db, world, referentiel)
    again = _draft(db, world, referentiel)  # the same form posted twice
    assert again.id == first.id and len(first.attestation.versions) == 1
    with pytest.raises(CarnetConflict) as conflict:
        _draft(db, world, referentiel, description="Autre texte")  # loaded before the draft
    assert conflict.value.current is first
    updated = _draft(db, world, referentiel, base=1, lock=1, description="Autre texte")
    assert updated.id == first.id and updated.lock_version == 2
    with pytest.raises(CarnetConflict):
        _draft(db, world, referentiel, base=1, lock=1, description="Encore un autre")


def test_signing_a_draft_changed_since_confirmation_is_refused(
    db: Session, referentiel: Referentiel
) -> None:
    world = build_world(db)
    draft = _draft(db, world, referentiel)
    shown = version_hash(draft, world.own.id, "GRU-C1")
    _draft(db, world, referentiel, base=1, lock=1, comment="changé dans un autre onglet")
    user = world.people["tuteur"]
    with pytest.raises(CarnetConflict):
        sign(
            session=db,
            actor=Actor(user.id, "t", ""),
            user=user,
            parcours=world.own,
            version=draft,
            competence_key="GRU-C1",
            confirmed_hash=shown,
            now=NOW,
        )


def test_only_the_assigned_tutor_and_manager_attest(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    for who in ("candidat", "referent", "admin", "other_tuteur", "other_manager"):
        with pytest.raises(NotAllowed):
            _draft(db, world, referentiel, who=who)
    manager_version = _draft(db, world, referentiel, who="manager")
    assert manager_version.attestation.role == "manager"
    with pytest.raises(NotAllowed):
        _sign(db, world, manager_version, who="tuteur")


def test_validation_messages_are_french_and_per_field(
    db: Session, referentiel: Referentiel
) -> None:
    world = build_world(db)
    with pytest.raises(CarnetValidation) as error:
        _draft(
            db,
            world,
            referentiel,
            situation_date="",
            situation_kind="radio",
            description="  ",
            verdict="",
            observed=["GDU-C12-1"],
        )
    assert set(error.value.errors) == {
        "situation_date",
        "situation_kind",
        "description",
        "verdict",
        "observed",
    }
    with pytest.raises(CarnetValidation) as future:
        _draft(db, world, referentiel, situation_date="2027-01-01")
    assert "futur" in future.value.errors["situation_date"]


def test_self_assessment_is_the_candidates_own(db: Session, referentiel: Referentiel) -> None:
    world = build_world(db)
    row = _row(db, world, "GRU-C1")
    candidate = world.people["candidat"]
    actor = Actor(candidate.id, "c", "")
    saved = save_self_assessment(
        session=db,
        actor=actor,
        user=candidate,
        parcours=world.own,
        competence=row,
        level="en_cours",
        comment="",
        lock_version=0,
        now=NOW,
    )
    assert saved.lock_version == 1
    with pytest.raises(CarnetConflict):
        save_self_assessment(
            session=db,
            actor=actor,
            user=candidate,
            parcours=world.own,
            competence=row,
            level="maitrisee",
            comment="",
            lock_version=0,
            now=NOW,
        )
    with pytest.raises(NotAllowed):
        save_self_assessment(
            session=db,
            actor=actor,
            user=world.people["tuteur"],
            parcours=world.own,
            competence=row,
            level="maitrisee",
            comment="",
            lock_version=1,
            now=NOW,
        )
