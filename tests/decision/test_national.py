"""The national deliberation service: agenda, decisions, proclamation and what it issues."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.portal.policy_national import (
    certification_of,
    decide_as_avis,
    national_session,
    on_agenda,
    signed_evaluation,
)
from tests.portal.world import SYSTEM, World, build_world
from vae.audit.models import AuditEntry
from vae.decision import national, proclamation
from vae.decision.models import Certificate, Deliberation, NationalDossier, Prerequisite
from vae.decision.national import Choice
from vae.parcours.models import Parcours, Route
from vae.parcours.service import HeldBlocInput, open_parcours
from vae.referentiel.models import CertificationRecord
from vae.referentiel.service import get_referentiel

NOW = datetime(2027, 3, 18, 23, 30, tzinfo=UTC)  # already the 19th in Paris
JUNE = datetime(2027, 6, 10, 8, tzinfo=UTC)  # a later session's day
_codes = itertools.count(1)


def new_code() -> str:
    return f"TEST-{next(_codes):06d}"


def proclaim(db: Session, jury, *, prerequisites=(), now=NOW):  # type: ignore[no-untyped-def]
    return proclamation.proclaim(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        certifications=lambda p: certification_of(db, p),
        prerequisites=lambda route: prerequisites,
        new_code=new_code,
        recours_days=15,
        now=now,
    )


def dossier_for(db: Session, world: World, parcours: Parcours, jury, **kw):  # type: ignore[no-untyped-def]
    evaluation = signed_evaluation(db, parcours, signer=world.people["jury_pro"], **kw)
    return on_agenda(db, jury, evaluation)


def certificates(db: Session) -> list[tuple[str, str | None]]:
    rows = db.scalars(select(Certificate).order_by(Certificate.id))
    return [(c.kind, c.bloc_key) for c in rows]


def test_add_dossier_refuses_unsigned_and_already_scheduled(db: Session) -> None:
    world = build_world(db)
    jury = national_session(db)
    unsigned = signed_evaluation(db, world.own, signer=world.people["jury_pro"], signed=False)
    with pytest.raises(national.NationalError, match="pas encore signé"):
        national.add_dossier(
            session=db, actor=SYSTEM, jury_session=jury, evaluation=unsigned, now=NOW
        )
    signed = signed_evaluation(db, world.foreign, signer=world.people["jury_pro"])
    assert signed in national.schedulable(db) and unsigned not in national.schedulable(db)
    national.add_dossier(session=db, actor=SYSTEM, jury_session=jury, evaluation=signed, now=NOW)
    assert signed not in national.schedulable(db)
    with pytest.raises(national.NationalError, match="déjà inscrit"):
        national.add_dossier(
            session=db, actor=SYSTEM, jury_session=jury, evaluation=signed, now=NOW
        )
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.action == "national.add_dossier"


def test_decisions_need_a_reason_when_differing_and_freeze_at_proclamation(db: Session) -> None:
    world = build_world(db)
    jury = national_session(db)
    dossier = dossier_for(db, world, world.own, jury, favourable={"TD": False})
    choices = {k: Choice(True, "") for k in ("GRU", "MDR", "POS")}
    with pytest.raises(national.DecisionErrors) as refused:
        national.record_decisions(
            session=db,
            actor=SYSTEM,
            dossier=dossier,
            choices=choices | {"TD": Choice(True, " ")},
            version=None,
            now=NOW,
        )
    assert set(refused.value.errors) == {"reason-TD"}
    assert "défavorable" in refused.value.errors["reason-TD"]
    with pytest.raises(national.DecisionErrors) as unanswered:
        national.record_decisions(
            session=db, actor=SYSTEM, dossier=dossier, choices=choices, version=None, now=NOW
        )
    assert set(unanswered.value.errors) == {"validated-TD"}
    assert db.scalars(select(Deliberation)).all() == []  # nothing half-saved

    national.record_decisions(
        session=db,
        actor=SYSTEM,
        dossier=dossier,
        choices=choices | {"TD": Choice(True, "Le recours établit la compétence C18.")},
        version=None,
        now=NOW,
    )
    national.record_decisions(  # changed before proclamation: TD follows the avis after all
        session=db,
        actor=SYSTEM,
        dossier=dossier,
        choices=choices | {"TD": Choice(False, "")},
        version=national.decisions_version(dossier),
        now=NOW,
    )
    decisions = {d.bloc_key: d.validated for d in db.scalars(select(Deliberation))}
    assert decisions == {"GRU": True, "MDR": True, "POS": True, "TD": False}
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.action == "deliberation.record"
    assert entry.details["TD"] == {"validated": False, "reason": ""}

    proclaim(db, jury)
    with pytest.raises(national.NationalError, match="déjà été proclamée le 19/03/2027"):
        national.record_decisions(
            session=db,
            actor=SYSTEM,
            dossier=dossier,
            choices=choices | {"TD": Choice(False, "")},
            version=national.decisions_version(dossier),
            now=NOW,
        )
    with pytest.raises(national.NationalError, match="déjà été proclamée"):
        national.add_dossier(
            session=db,
            actor=SYSTEM,
            jury_session=jury,
            evaluation=signed_evaluation(db, world.foreign, signer=world.people["jury_pro"]),
            now=NOW,
        )


def test_proclamation_problems_are_listed(db: Session) -> None:
    world = build_world(db)
    empty = national_session(db)
    with pytest.raises(national.ProclamationRefused) as refused:
        proclaim(db, empty)
    assert refused.value.problems == ["Aucun dossier n'est inscrit à cette session."]
    jury = national_session(db, date(2027, 6, 10))
    dossier_for(db, world, world.own, jury, signed=False)
    decided = dossier_for(db, world, world.foreign, jury)
    db.add(Deliberation(dossier_id=decided.id, bloc_key="GRU", validated=True))
    db.flush()
    db.refresh(decided)
    with pytest.raises(national.ProclamationRefused) as refused:
        proclaim(db, jury, now=JUNE)
    assert refused.value.problems == [
        "Candidat Test : l'avis du jury professionnel n'est pas signé.",
        "Autrecandidat Test : pas de décision pour MDR, POS, TD.",
    ]
    assert db.scalars(select(Certificate)).all() == []


def test_full_validation_issues_ccps_and_the_cqp_and_closes_the_parcours(db: Session) -> None:
    world = build_world(db)
    jury = national_session(db)
    dossier = dossier_for(db, world, world.own, jury)  # VAE: no prerequisite
    decide_as_avis(db, dossier)
    done = proclaim(db, jury)
    assert certificates(db) == [
        ("ccp", "GRU"),
        ("ccp", "MDR"),
        ("ccp", "POS"),
        ("ccp", "TD"),
        ("cqp", None),
    ]
    cqp = done.certificates[-1]
    assert (cqp.certification_code, cqp.issued_on, cqp.session_id) == (
        "RNCP35543",
        date(2027, 3, 19),
        jury.id,
    )
    assert cqp.holder_last_name == "Test" and cqp.dossier_id == dossier.id
    gru = done.certificates[0]
    assert gru.bloc_code == "RNCP35543BC01" and gru.bloc_title
    assert world.own.status == "clos" and world.own.end_date == date(2027, 3, 19)
    assert dossier.cqp_withheld_reason is None
    with pytest.raises(national.NationalError, match="déjà proclamée le 19/03/2027"):
        proclaim(db, jury)


def test_partial_validation_issues_the_validated_blocs_only(db: Session) -> None:
    world = build_world(db)
    jury = national_session(db)
    dossier = dossier_for(db, world, world.own, jury, favourable={"POS": False})
    decide_as_avis(db, dossier)
    done = proclaim(db, jury)
    assert certificates(db) == [("ccp", "GRU"), ("ccp", "MDR"), ("ccp", "TD")]
    assert done.outcomes[0].issuance.missing_blocs == ("POS",)
    assert world.own.status == "en_cours"


def _gc_holder_on_cos(db: Session, world: World, *, held: bool) -> Parcours:
    """A GC holder of GRU and MDR opening a COS parcours (HeldBloc rows or earlier CCPs)."""
    cos = db.scalars(select(CertificationRecord).where(CertificationRecord.short == "COS")).one()
    world.own.status = "clos"
    inputs = [HeldBlocInput(k, "CQP GC", date(2025, 6, 1)) for k in ("GRU", "MDR")] if held else []
    return open_parcours(
        session=db,
        actor=SYSTEM,
        candidate=world.people["candidat"],
        certification=cos,
        route=Route.FORMATION,
        employer=world.cpam,
        tutor=None,
        manager=None,
        start_date=date(2026, 10, 1),
        held_blocs=inputs,
    )


@pytest.mark.parametrize("revoked", [False, True])
def test_passerelle_earlier_ccps_count_unless_revoked(db: Session, revoked: bool) -> None:
    world = build_world(db)
    for key in ("GRU", "MDR"):
        db.add(
            Certificate(
                code=new_code(),
                kind="ccp",
                holder_id=world.people["candidat"].id,
                parcours_id=world.own.id,
                certification_code="RNCP35729",
                certification_short="GC",
                certification_title="Gestionnaire conseil",
                bloc_key=key,
                route="vae",
                issued_on=date(2025, 6, 1),
                holder_first_name="Candidat",
                holder_last_name="Test",
                revoked_at=NOW if revoked and key == "MDR" else None,
            )
        )
    parcours = _gc_holder_on_cos(db, world, held=False)
    for key in ("pass", "premss"):
        db.add(Prerequisite(parcours_id=parcours.id, key=key, completed_on=date(2026, 11, 1)))
    jury = national_session(db)
    dossier = dossier_for(db, world, parcours, jury, favourable={"MDR": False})
    decide_as_avis(db, dossier)
    done = proclaim(db, jury, prerequisites=("pass", "premss"))
    issued = [(c.kind, c.bloc_key) for c in done.certificates]
    if revoked:  # MDR not held any more and not validated now: no CQP
        assert issued == [("ccp", "POS"), ("ccp", "TD")]
        assert done.outcomes[0].issuance.missing_blocs == ("MDR",)
    else:
        assert issued == [("ccp", "POS"), ("ccp", "TD"), ("cqp", None)]


def test_passerelle_with_held_blocs_and_missing_prerequisite(db: Session) -> None:
    world = build_world(db)
    parcours = _gc_holder_on_cos(db, world, held=True)
    db.add(Prerequisite(parcours_id=parcours.id, key="pass", completed_on=date(2026, 11, 1)))
    jury = national_session(db)
    dossier = dossier_for(db, world, parcours, jury)
    assert {a.bloc_key for a in dossier.evaluation.avis} == {"POS", "TD"}
    decide_as_avis(db, dossier)
    done = proclaim(db, jury, prerequisites=("pass", "premss"))
    assert [(c.kind, c.bloc_key) for c in done.certificates] == [("ccp", "POS"), ("ccp", "TD")]
    reason = db.get(NationalDossier, dossier.id).cqp_withheld_reason  # type: ignore[union-attr]
    assert reason and "Prem'ss" in reason and "CQP COS non délivré" in reason
    assert parcours.status == "en_cours"

    # while Prem'ss is missing the withheld CQP cannot be delivered
    cos = db.scalars(select(CertificationRecord).where(CertificationRecord.short == "COS")).one()
    certification = get_referentiel(db).certification(cos.code)  # type: ignore[union-attr]

    def deliver():  # type: ignore[no-untyped-def]
        return proclamation.issue_withheld_cqp(
            session=db,
            actor=SYSTEM,
            dossier=db.get(NationalDossier, dossier.id),
            certification=certification,
            required=("pass", "premss"),
            new_code=new_code,
            now=NOW,
        )

    with pytest.raises(national.NationalError, match="Prem'ss"):
        deliver()

    # recorded later: a later session gives the CQP (blocs now held by the earlier CCPs)
    db.add(Prerequisite(parcours_id=parcours.id, key="premss", completed_on=date(2027, 4, 1)))
    jury2 = national_session(db, date(2027, 6, 10))
    db.flush()
    later = signed_evaluation(
        db, parcours, signer=world.people["jury_pro"], signed_at=datetime(2027, 4, 9, tzinfo=UTC)
    )
    dossier2 = on_agenda(db, jury2, later)
    decide_as_avis(db, dossier2)
    again = proclaim(db, jury2, prerequisites=("pass", "premss"), now=JUNE)
    assert [(c.kind, c.bloc_key) for c in again.certificates] == [("cqp", None)]


def test_record_proclamation_audits_the_pv_hash_and_codes(db: Session) -> None:
    world = build_world(db)
    jury = national_session(db)
    decide_as_avis(db, dossier_for(db, world, world.own, jury))
    done = proclaim(db, jury)
    proclamation.record_proclamation(
        session=db, actor=SYSTEM, proclaimed=done, pv_file="pv-x.pdf", pv_sha256="a" * 64, now=NOW
    )
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "session.proclaim")).one()
    assert entry.details["pv_sha256"] == "a" * 64
    assert entry.details["certificates"] == [c.code for c in done.certificates]
    assert done.proclamation.audit_seq == entry.seq and done.proclamation.pv_file == "pv-x.pdf"


def test_a_withheld_cqp_is_delivered_once_the_prerequisites_are_recorded(db: Session) -> None:
    world = build_world(db)
    parcours = _gc_holder_on_cos(db, world, held=True)
    jury = national_session(db)
    dossier = dossier_for(db, world, parcours, jury)
    decide_as_avis(db, dossier)
    proclaim(db, jury, prerequisites=("pass",))
    assert db.get(NationalDossier, dossier.id).cqp_withheld_reason  # type: ignore[union-attr]
    db.add(Prerequisite(parcours_id=parcours.id, key="pass", completed_on=date(2026, 11, 1)))
    db.flush()
    certification = get_referentiel(db).certification("RNCP35543")  # type: ignore[union-attr]

    def deliver():  # type: ignore[no-untyped-def]
        return proclamation.issue_withheld_cqp(
            session=db,
            actor=SYSTEM,
            dossier=db.get(NationalDossier, dossier.id),
            certification=certification,
            required=("pass",),
            new_code=new_code,
            now=NOW,
        )

    cqp = deliver()
    assert (cqp.kind, cqp.bloc_key, cqp.certification_short) == ("cqp", None, "COS")
    assert cqp.holder_id == parcours.candidate_id and cqp.dossier_id == dossier.id
    assert parcours.status == "clos"
    assert db.get(NationalDossier, dossier.id).cqp_withheld_reason is None  # type: ignore[union-attr]
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.issue_withheld_cqp")
    ).one()
    assert entry.details["certificate"] == cqp.code
    with pytest.raises(national.NationalError, match="Aucun CQP n'est retenu"):
        deliver()
