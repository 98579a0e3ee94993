"""Loading the référentiel into the database: idempotent, versioned, shared blocs by identity."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vae.referentiel.loader import ReferentielError
from vae.referentiel.model import Referentiel
from vae.referentiel.models import (
    BlocRecord,
    CertificationBlocRecord,
    CertificationRecord,
    CriterionRecord,
    ReferentielVersion,
)
from vae.referentiel.service import current_version, export, get_referentiel, load_version


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_loading_the_same_version_twice_changes_nothing(
    db: Session, referentiel: Referentiel
) -> None:
    before = [_count(db, m) for m in (ReferentielVersion, BlocRecord, CriterionRecord)]
    version, created = load_version(session=db, referentiel=referentiel)
    assert not created
    assert version.version == "2021"
    assert [_count(db, m) for m in (ReferentielVersion, BlocRecord, CriterionRecord)] == before


def test_shared_blocs_are_one_row_each(db: Session) -> None:
    version = current_version(db)
    assert version is not None
    assert _count(db, BlocRecord) == 5 * _count(db, ReferentielVersion)
    links = db.execute(
        select(
            CertificationRecord.short, BlocRecord.key, BlocRecord.id, CertificationBlocRecord.code
        )
        .join(
            CertificationBlocRecord,
            CertificationBlocRecord.certification_id == CertificationRecord.id,
        )
        .join(BlocRecord, BlocRecord.id == CertificationBlocRecord.bloc_id)
        .where(CertificationRecord.version_id == version.id)
    ).all()
    ids = {(short, key): bloc_id for short, key, bloc_id, _ in links}
    assert ids[("COS", "GRU")] == ids[("GC", "GRU")]
    assert ids[("COS", "MDR")] == ids[("GC", "MDR")]
    codes = {(short, key): code for short, key, _, code in links}
    assert codes[("COS", "GRU")] == "RNCP35543BC01"
    assert codes[("GC", "GRU")] == "RNCP35729BC01"


def test_database_copy_reads_back_equal_to_the_files(db: Session, referentiel: Referentiel) -> None:
    stored = get_referentiel(db)
    assert stored is not None
    assert export(stored) == export(referentiel)
    assert stored.blocs == referentiel.blocs
    assert stored.vae == referentiel.vae
    assert (
        stored.certification("COS").bloc("GRU").bloc is stored.certification("GC").bloc("GRU").bloc
    )


def test_same_version_with_other_content_is_refused(db: Session, referentiel: Referentiel) -> None:
    changed = dataclasses.replace(referentiel, content_hash="0" * 64)
    with pytest.raises(ReferentielError, match="already loaded with different content"):
        load_version(session=db, referentiel=changed)


def test_a_new_version_never_rewrites_the_old_one(db: Session, referentiel: Referentiel) -> None:
    old = current_version(db)
    assert old is not None
    old_criteria = db.scalars(
        select(CriterionRecord.id)
        .join(CriterionRecord.competence)
        .join(BlocRecord)
        .where(BlocRecord.version_id == old.id)
    ).all()
    newer = dataclasses.replace(referentiel, version="2099", content_hash="f" * 64)
    version, created = load_version(session=db, referentiel=newer)
    assert created and version.id != old.id
    assert current_version(db) == version
    still = db.scalars(
        select(CriterionRecord.id)
        .join(CriterionRecord.competence)
        .join(BlocRecord)
        .where(BlocRecord.version_id == old.id)
    ).all()
    assert still == old_criteria
    assert get_referentiel(db, old.id) is not None


def test_export_contract(referentiel: Referentiel) -> None:
    data = export(referentiel)
    certs = {c["short"]: c for c in data["certifications"]}
    cos, gc = certs["COS"], certs["GC"]
    assert (cos["code"], cos["level"], gc["code"], gc["level"]) == ("RNCP35543", 4, "RNCP35729", 5)
    assert [b["key"] for b in cos["blocs"]] == ["GRU", "MDR", "POS", "TD"]
    for cert in (cos, gc):
        for bloc in cert["blocs"]:
            assert set(bloc) >= {"code", "key", "title", "competences"}
            for comp in bloc["competences"]:
                assert set(comp) >= {"key", "number", "label", "criteria"}
                assert all(set(c) == {"key", "label"} for c in comp["criteria"])
    cos_gru = next(b for b in cos["blocs"] if b["key"] == "GRU")
    gc_gru = next(b for b in gc["blocs"] if b["key"] == "GRU")
    assert cos_gru["competences"] == gc_gru["competences"]
    numbers = [c["number"] for b in cos["blocs"] for c in b["competences"]]
    assert numbers == [f"C{i}" for i in range(1, 19)]
    numbers = [c["number"] for b in gc["blocs"] for c in b["competences"]]
    assert numbers == [f"C{i}" for i in range(1, 17)]
    count = sum(len(c["criteria"]) for b in cos["blocs"] for c in b["competences"])
    assert count == 73
    count = sum(len(c["criteria"]) for b in gc["blocs"] for c in b["competences"])
    assert count == 73
