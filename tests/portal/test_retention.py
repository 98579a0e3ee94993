"""Retention: ``vae.retention.apply`` on a real database, and the ``retention apply`` command."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.models import AttestationVersion, Milestone, SelfAssessment
from carnet.queries import load_carnet
from portal.certificates import certificate_path
from portal.settings import Settings
from tests.portal.rgpd_world import SECRET, Rich, build_rich
from tests.portal.test_cli import run
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor, verify
from vae.decision.models import BlocAvis, Certificate, Deliberation, Evaluation, Recours
from vae.decision.signing import signature_state
from vae.livret.annexes import annex_folder
from vae.livret.models import Annex, Livret, LivretSubmission, Situation
from vae.parcours.models import Parcours, ParcoursStatus
from vae.referentiel.models import CompetenceRecord
from vae.retention import Report, apply

MARK = "[anonymisé le 2027-03-02]"
ACTOR = Actor.system("tests retention")


def _apply(db: Session, settings: Settings, day: date, *, dry_run: bool = False) -> Report:
    return apply(
        session=db,
        data_dir=settings.data_dir,
        now=day,
        months=12,
        dry_run=dry_run,
        actor=ACTOR,
    )


def _setup(db: Session, settings: Settings) -> tuple[World, Rich]:
    """world.own ended 2026-03-01 (due on 2027-03-02); world.foreign ended a day later."""
    world = build_world(db)
    rich = build_rich(db, settings, world, end=date(2026, 3, 1))
    world.foreign.end_date = date(2026, 3, 2)
    db.add(
        SelfAssessment(
            parcours_id=world.foreign.id,
            competence_id=db.scalars(
                select(CompetenceRecord.id).where(CompetenceRecord.key == "GRU-C1")
            ).first(),
            level="maitrisee",
            comment="Commentaire de l'autre candidat.",
        )
    )
    db.flush()
    return world, rich


def _retention_entries(db: Session) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry).where(AuditEntry.action.like("retention.%")).order_by(AuditEntry.seq)
        )
    )


def test_dry_run_reports_and_changes_nothing(db: Session, settings: Settings) -> None:
    world, rich = _setup(db, settings)
    annex_file = annex_folder(settings.data_dir) / rich.annex.stored_name
    report = _apply(db, settings, date(2027, 3, 2), dry_run=True)
    assert [d.parcours_id for d in report.parcours] == [world.own.id]
    assert report.rows["situations"] == 1 and report.rows["annexes"] == 1
    assert report.rows["attestation_versions"] == 1 and report.rows["livret_submissions"] == 1
    assert report.files == 1 and report.bytes == len(rich.annex_bytes)
    db.expire_all()
    assert SECRET in db.scalars(select(Situation.context)).one()
    assert db.scalar(select(func.count()).select_from(Annex)) == 1 and annex_file.is_file()
    assert _retention_entries(db) == []


def test_apply_anonymises_the_parcours_past_the_period_and_keeps_certificates(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world, rich = _setup(db, settings)
    annex_file = annex_folder(settings.data_dir) / rich.annex.stored_name
    report = _apply(db, settings, date(2027, 3, 2))
    assert [d.parcours_id for d in report.parcours] == [world.own.id]  # not foreign: a day short
    assert report.files == 1 and report.bytes == len(rich.annex_bytes)
    assert dict(report.rows) == {
        "livrets": 1,
        "situations": 1,
        "annexes": 1,
        "livret_submissions": 1,
        "self_assessments": 1,
        "attestation_versions": 1,
        "milestones": 1,
        "evaluations": 1,
        "bloc_avis": 1,
        "recours": 1,
        "deliberations": 1,
    }
    db.expire_all()
    own = world.own.id
    # content replaced
    situation = db.scalars(select(Situation)).one()
    assert situation.title == situation.context == situation.result == MARK
    assert situation.competence_keys == ["GRU-C1"] and situation.means == ""
    livret = db.scalars(select(Livret).where(Livret.parcours_id == own)).one()
    assert livret.current_job == MARK and livret.career == []
    frozen = db.scalars(select(LivretSubmission)).one()
    assert SECRET not in json.dumps(frozen.snapshot, ensure_ascii=False)
    assert frozen.snapshot["situations"][0]["annexes"][0]["sha256"] == rich.annex.sha256
    assert db.scalar(select(func.count()).select_from(Annex)) == 0 and not annex_file.exists()
    version = db.scalars(select(AttestationVersion)).one()
    assert version.description == version.comment == MARK and version.verdict == "maitrisee"
    comments = dict(db.execute(select(SelfAssessment.parcours_id, SelfAssessment.comment)).all())
    assert comments == {own: MARK, world.foreign.id: "Commentaire de l'autre candidat."}
    milestone = db.scalars(select(Milestone)).one()
    assert milestone.notes == milestone.other_participants == MARK
    evaluation = db.get(Evaluation, rich.evaluation.id)
    assert evaluation is not None and evaluation.comments == {"GRU-C1": MARK}
    assert evaluation.marks == {"GRU-C1-1": True, "GRU-C1-2": False}
    avis = db.scalars(select(BlocAvis)).one()
    assert avis.justification == avis.recommendations == MARK and avis.favourable is False
    assert db.scalars(select(Recours.text)).one() == MARK
    decision = db.scalars(select(Deliberation)).one()
    assert decision.reason == MARK and decision.validated is True
    # the carnet says "anonymisé", not "signature rompue"
    check = load_carnet(db, world.own).checks[version.id]
    assert not check.valid and check.anonymised
    assert check.message.startswith("Contenu anonymisé")
    sign_in_as(client, db, settings, world.people["admin"])
    carnet_page = client.get(f"/parcours/{own}/carnet").text
    assert '<span class="badge partial">Contenu anonymisé</span>' in carnet_page
    assert "Signature rompue" not in carnet_page
    client.cookies.clear()
    # certificates kept and verifiable
    certificate = db.get(Certificate, rich.certificate.id)
    assert certificate is not None and certificate.holder_last_name == "Test"
    path = certificate_path(settings, certificate)
    assert path is not None and path.is_file()
    page = client.get(f"/verifier/{certificate.code}")
    assert page.status_code == 200 and "Certificat valide" in page.text
    client.get("/verifier")
    upload = client.post(
        "/verifier",
        data={"csrf_token": client.cookies.get("csrf") or ""},
        files={"file": ("c.pdf", path.read_bytes(), "application/pdf")},
    )
    assert upload.status_code == 200 and "Certificat authentique" in upload.text
    # audited, once per parcours and once for the run; the chain holds
    entries = _retention_entries(db)
    assert [(e.action, e.object_id) for e in entries] == [
        ("retention.anonymise", str(own)),
        ("retention.apply", "2027-03-02"),
    ]
    assert entries[0].subject_id == world.people["candidat"].id
    assert entries[0].details["reference_date"] == "2026-03-01"
    assert entries[0].details["files"] == [rich.annex.stored_name]
    assert verify(db).ok
    # idempotent: a second run finds nothing
    again = _apply(db, settings, date(2027, 3, 2))
    assert again.parcours == [] and not again.rows and again.files == 0
    assert len(_retention_entries(db)) == 2
    # the export still works, with the anonymised content
    token = sign_in_as(client, db, settings, world.people["candidat"])
    response = client.post("/compte/mes-donnees", data={"csrf_token": token})
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    livret_json = archive.read(f"parcours-{own}/livret.json").decode()
    assert MARK in livret_json and SECRET not in livret_json
    assert not any("/annexes/" in name for name in archive.namelist())
    # the avis and the frozen livret say "anonymisé", not "signature rompue"
    assert signature_state(evaluation) == "anonymised"
    pdf = client.get(f"/parcours/{own}/livret.pdf")
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Contenu anonymisé au terme de la durée de conservation" in " ".join(text.split())
    assert "ne correspond plus à l'empreinte signée" not in text


def test_the_next_day_the_other_parcours_is_due(db: Session, settings: Settings) -> None:
    world, _ = _setup(db, settings)
    _apply(db, settings, date(2027, 3, 2))
    report = _apply(db, settings, date(2027, 3, 3))
    assert [d.parcours_id for d in report.parcours] == [world.foreign.id]
    assert dict(report.rows) == {"self_assessments": 1}


def test_closed_without_end_date_counts_from_the_last_certificate(
    db: Session, settings: Settings
) -> None:
    world = build_world(db)
    rich = build_rich(db, settings, world, end=None)  # certificate issued on 2027-03-01
    assert rich.certificate.issued_on == date(2027, 3, 1)
    assert _apply(db, settings, date(2099, 1, 1), dry_run=True).parcours == []  # still open
    world.own.status = ParcoursStatus.CLOSED.value
    db.flush()
    assert _apply(db, settings, date(2028, 3, 1), dry_run=True).parcours == []
    due = _apply(db, settings, date(2028, 3, 2), dry_run=True).parcours
    assert [(d.parcours_id, d.reference) for d in due] == [(world.own.id, date(2027, 3, 1))]


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "DATA_DIR": str(tmp_path)}
    assert run("db", "upgrade", env=env).returncode == 0
    return env


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["--now", "2027-13-01"], {}, "vae-portal: error: --now '2027-13-01' is not a date"),
        ([], {"RETENTION_MONTHS": "0"}, "RETENTION_MONTHS=0 must be at least 1"),
        ([], {"RETENTION_MONTHS": "douze"}, "RETENTION_MONTHS='douze' is not a whole number"),
    ],
)
def test_command_errors_are_one_line(
    cli_env: dict[str, str], args: list[str], extra: dict[str, str], message: str
) -> None:
    result = run("retention", "apply", *args, env={**cli_env, **extra})
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_command_on_the_demo_dry_run_then_apply_then_nothing(cli_env: dict[str, str]) -> None:
    assert run("referentiel", "load", env=cli_env).returncode == 0
    assert run("demo", env=cli_env).returncode == 0
    engine = create_engine(cli_env["DATABASE_URL"])
    with engine.begin() as connection:  # the demo's carnet (1) and a written livret (4) ended
        connection.execute(
            update(Parcours).where(Parcours.id.in_([1, 4])).values(end_date=date(2026, 1, 15))
        )
    engine.dispose()
    dry = run("retention", "apply", "--dry-run", "--now", "2027-01-16", env=cli_env)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == (
        "retention 12 months as of 2027-01-16: 2 parcours would be anonymised (dry run, nothing "
        "changed): #1 (ended 2026-01-15), #4 (ended 2026-01-15)"
    )
    assert "  attestation_versions: 11 row(s)" in lines and "  situations: 2 row(s)" in lines
    not_yet = run("retention", "apply", "--now", "2027-01-15", env=cli_env)
    assert "0 parcours anonymised" in not_yet.stdout
    done = run("retention", "apply", "--now", "2027-01-16", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(
        "retention 12 months as of 2027-01-16: 2 parcours anonymised"
    )
    assert done.stdout.splitlines()[1:-1] == lines[1:-1]  # the figures the dry run announced
    again = run("retention", "apply", "--now", "2027-01-16", env=cli_env)
    assert "0 parcours anonymised" in again.stdout
    assert "files deleted: 0 (0 bytes freed)" in again.stdout
    verified = run("audit", "verify", env=cli_env)
    assert verified.returncode == 0, verified.stderr
