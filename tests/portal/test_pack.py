"""The interview pack: the 45-minute plan, the weak points and their questions, the pack on
screen and as a PDF (bookmarks, merged annexes, grid, page numbers), who may see it, and the
session batch (progress, zip)."""

from __future__ import annotations

import html
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from carnet.queries import load_carnet
from portal.pdf import pack_batch
from portal.pdf.pack_models import BatchStatus, PackBatch
from portal.settings import Settings, SettingsError, load_settings
from portal.views import pack as pack_views
from tests.livret.helpers import complete_livret
from tests.portal.test_carnet_pdf import attest
from tests.portal.test_livret_pdf import attach, outline_tree, read, write_situation
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.jury.models import Convocation, JuryMember, JurySession, SessionKind
from vae.jury.pack import (
    NONE,
    SOLID,
    WEAK,
    BlocToAssess,
    Evidence,
    apportion,
    interview_plan,
    weak_evidence,
)
from vae.jury.service import JuryRuleViolation, assign_member, convene, plan_session
from vae.livret.models import Livret, LivretSubmission
from vae.livret.service import get_or_open, submit
from vae.people.models import Branche, Civility, OrganisationKind, OrganisationType, Role, User
from vae.people.service import create_organisation, create_user
from vae.referentiel.model import Referentiel

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DAY = date(2027, 2, 9)
SYSTEM = Actor.system("tests")
TRAINED = date(2026, 3, 1)


# --- the 45-minute plan ----------------------------------------------------------------------


def test_plan_splits_15_and_30_minutes_per_bloc() -> None:
    blocs = [BlocToAssess("GRU", "Relation", 6, 2), BlocToAssess("POS", "Promotion", 3, 3)]
    plan = interview_plan(blocs, total=45, presentation=15)
    assert (plan.presentation.minutes, plan.questions.minutes) == (15, 30)
    assert [s.minutes for s in plan.presentation.slots] == [10, 5]  # 6 : 3
    assert [s.minutes for s in plan.questions.slots] == [17, 13]  # 8 : 6, weak ones count twice
    assert [(s.start, s.end) for s in plan.questions.slots] == [(15, 32), (32, 45)]
    assert plan.minutes_for("POS") == (5, 13) and plan.minutes_for("TD") == (0, 0)
    with pytest.raises(ValueError):
        interview_plan(blocs, total=45, presentation=45)


def test_apportion_is_exact_and_gives_ties_to_the_earlier_share() -> None:
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(7, [0, 0]) == [4, 3]
    assert apportion(5, [100, 1, 1], minimum=1) == [3, 1, 1]
    assert apportion(2, [1, 1, 1], minimum=1) == [1, 1, 0]  # too short for a minute each
    assert apportion(0, []) == []


@given(
    presentation=st.integers(min_value=1, max_value=44),
    blocs=st.lists(
        st.tuples(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=12)),
        max_size=5,
    ),
)
def test_plan_minutes_always_add_up(presentation: int, blocs: list[tuple[int, int]]) -> None:
    plan = interview_plan(
        [BlocToAssess(f"B{i}", "x", c, min(w, c)) for i, (c, w) in enumerate(blocs)],
        total=45,
        presentation=presentation,
    )
    assert plan.presentation.minutes + plan.questions.minutes == 45
    for phase in plan.phases:
        assert sum(s.minutes for s in phase.slots) == (phase.minutes if blocs else 0)
        if blocs and phase.minutes >= len(blocs):
            assert all(s.minutes >= 1 for s in phase.slots)
        assert all(a.end == b.start for a, b in zip(phase.slots, phase.slots[1:], strict=False))


def test_presentation_setting() -> None:
    assert load_settings({"DATABASE_URL": "sqlite://"}).interview_presentation_minutes == 15
    env = {"DATABASE_URL": "sqlite://", "INTERVIEW_PRESENTATION_MINUTES": "20"}
    assert load_settings(env).interview_presentation_minutes == 20
    with pytest.raises(SettingsError, match="INTERVIEW_PRESENTATION_MINUTES"):
        load_settings({**env, "INTERVIEW_PRESENTATION_MINUTES": "45"})


# --- weak evidence ---------------------------------------------------------------------------


def test_weak_evidence_names_competences_criteria_and_questions(referentiel: Referentiel) -> None:
    pos = referentiel.blocs["POS"]
    c12, c13, c14 = pos.competences
    evidence = {
        c12.key: Evidence(
            situations=("Atelier collectif",),
            claimed_criteria=frozenset(c12.criterion_keys),
            attested_by=2,
        ),
        c14.key: Evidence(
            situations=("Atelier collectif",),
            attested_by=1,
            observed={c14.criterion_keys[0]: 2, c14.criterion_keys[1]: 1},
            carnet_summary="Attestée par le tuteur seulement",
        ),
    }
    weak = weak_evidence([pos], evidence, has_livret=True)
    assert [(w.key, w.level) for w in weak] == [(c13.key, NONE), (c14.key, WEAK)]
    nothing, thin = weak
    assert nothing.reasons == (
        "Aucune situation du livret ne la revendique.",
        "Carnet de suivi : pas encore attestée.",
    )
    assert f"« {c13.label} »" in nothing.questions[0]
    assert len(nothing.criteria) == len(c13.criteria)
    first = nothing.criteria[0]
    assert first.questions == (
        "Pouvez-vous décrire une situation de travail où vous avez mis en œuvre ce critère : "
        f"« {c13.criteria[0].label.rstrip('.')} » ?",
    )
    assert thin.reasons == ("Carnet de suivi : attestée par le tuteur seulement.",)
    # the first criterion is observed by both: not listed; the others are, anchored in the
    # situation that claims the competence
    assert [c.number for c in thin.criteria] == list(range(2, len(c14.criteria) + 1))
    assert thin.criteria[0].questions[0].startswith("Dans la situation « Atelier collectif »")
    assert "observé par un seul" in thin.criteria[0].reason
    # formation route: no livret, the carnet decides
    formation = weak_evidence([pos], {c12.key: Evidence(attested_by=2)}, has_livret=False)
    assert c12.key not in [w.key for w in formation if w.level != SOLID]
    assert not any("livret" in r for w in formation for r in w.reasons)


# --- a session with a convened candidate -----------------------------------------------------


def _expert(db: Session, name: str, branche: Branche, org: Any = None) -> User:
    organisation = org or create_organisation(
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
        organisation=organisation,
        roles={Role.JURY_PRO},
        jury_training_date=TRAINED,
    )


def _jury(db: Session, world: World) -> tuple[JurySession, User]:
    jury = plan_session(
        session=db,
        actor=SYSTEM,
        kind=SessionKind.PROFESSIONNEL,
        day=DAY,
        place="Ucanss, Montreuil",
        capacity=30,
        months=(2, 4, 6, 10, 12),
        exam_days=15,
    )
    president = world.people["jury_pro"]
    president.jury_training_date = TRAINED
    assign_member(
        session=db, actor=SYSTEM, jury_session=jury, user=president, quality="president", now=NOW
    )
    expert = _expert(db, "maladie", Branche.MALADIE)
    assign_member(
        session=db, actor=SYSTEM, jury_session=jury, user=expert, quality="expert", now=NOW
    )
    return jury, expert


def _submit(db: Session, livret: Livret, certification: Any, candidate: User) -> LivretSubmission:
    return submit(
        session=db,
        actor=Actor(candidate.id, candidate.full_name, "10.0.0.2"),
        user=candidate,
        livret=livret,
        certification=certification,
        sworn=True,
        now=NOW,
    )


def _convene(db: Session, jury: JurySession, parcours: Any, hour: int = 9) -> Convocation:
    return convene(
        session=db,
        actor=SYSTEM,
        jury_session=jury,
        parcours=parcours,
        at=datetime(2027, 2, 9, hour, 30, tzinfo=UTC),
        not_ready=None,
        now=NOW,
    )


@pytest.fixture
def convened(db: Session, settings: Settings, referentiel: Referentiel) -> dict[str, Any]:
    """The own VAE candidate: a submitted livret (GRU has a second situation with two
    annexes), GRU-C1 attested by the tutor only, convened at 10:30 Paris time."""
    world = build_world(db)
    jury, expert = _jury(db, world)
    livret = complete_livret(db, world, referentiel)
    candidate = world.people["candidat"]
    certification = referentiel.certification(world.own.certification.code)
    extra = write_situation(
        db, livret, certification, candidate, "GRU", title="Rappel d'un assuré mécontent"
    )
    folder = settings.data_dir / "annexes"
    attach(db, folder, extra, "courrier-anonymise.pdf", 2)
    attach(db, folder, extra, "fiche-contact.pdf", 1)
    _submit(db, livret, certification, candidate)
    attest(db, load_carnet(db, world.own), world.people["tuteur"], "GRU-C1")
    convocation = _convene(db, jury, world.own)
    db.flush()
    return {"world": world, "jury": jury, "expert": expert, "convocation": convocation}


def test_pack_on_screen_for_a_member(
    client: TestClient, db: Session, settings: Settings, convened: dict[str, Any]
) -> None:
    world, convocation = convened["world"], convened["convocation"]
    sign_in_as(client, db, settings, convened["expert"])
    page = client.get(f"/jury/convocations/{convocation.id}/dossier")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for expected in (
        "Mme Candidat Test",
        "CPAM Test",
        "Maladie",
        "9 février 2027",
        "10 h 30",  # 9:30 UTC, Paris time in winter
        "Ucanss, Montreuil",
        "Président(e)",
        "Expert(e) métier",
        "Plan de l'entretien (45 minutes)",
        "Rappel d'un assuré mécontent",
        "Couverture des compétences",
        "Attestée par le tuteur seulement",
        "Points à approfondir et questions",
        "Grille d'évaluation",
        "courrier-anonymise.pdf",
    ):
        assert expected in text, expected
    # GRU: the plan gives it the largest share; POS and TD follow (GRU and MDR are not held)
    assert "GRU – " in text and "POS – " in text
    assert world.own.candidate.full_name in text


def test_pack_is_404_for_everyone_else(
    client: TestClient, db: Session, settings: Settings, convened: dict[str, Any]
) -> None:
    world, convocation, jury = convened["world"], convened["convocation"], convened["jury"]
    outsider = _expert(db, "famille", Branche.FAMILLE)  # a jury member of no session
    for user in (outsider, world.people["candidat"], world.people["referent"]):
        sign_in_as(client, db, settings, user)
        for url in (
            f"/jury/convocations/{convocation.id}/dossier",
            f"/jury/convocations/{convocation.id}/dossier.pdf",
            f"/jury/sessions/{jury.id}/dossiers",
        ):
            assert client.get(url).status_code == 404, (user.email, url)
    # a jury member from the candidate's organisme cannot be assigned…
    colleague = _expert(db, "collegue", Branche.MALADIE, org=world.cpam)
    with pytest.raises(JuryRuleViolation, match="organisme employeur"):
        assign_member(
            session=db, actor=SYSTEM, jury_session=jury, user=colleague, quality="expert", now=NOW
        )
    # …and, were the rule bypassed, would still not see the candidate's pack
    db.add(JuryMember(session_id=jury.id, user_id=colleague.id, quality="expert"))
    db.flush()
    sign_in_as(client, db, settings, colleague)
    assert client.get(f"/jury/convocations/{convocation.id}/dossier").status_code == 404
    sign_in_as(client, db, settings, world.people["admin"])
    assert client.get(f"/jury/convocations/{convocation.id}/dossier").status_code == 200


def test_pack_pdf(
    client: TestClient, db: Session, settings: Settings, convened: dict[str, Any]
) -> None:
    convocation = convened["convocation"]
    sign_in_as(client, db, settings, convened["expert"])
    response = client.get(f"/jury/convocations/{convocation.id}/dossier.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "dossier-entretien-test-candidat" in response.headers["content-disposition"]
    reader, pages = read(response.content)
    assert "Dossier d'entretien Entretien avec le jury professionnel" in pages[0]
    assert "Page 1 sur" in pages[0]
    everything = "\n".join(pages)
    for expected in ("Plan de l'entretien", "Grille d'évaluation", "☐", "Commentaire :"):
        assert expected in everything, expected
    assert "Signatures du jury" in everything
    # the annexes follow the pack: three pages
    assert pages[-3:] == [
        "COURRIER-ANONYMISE page 1",
        "COURRIER-ANONYMISE page 2",
        "FICHE-CONTACT page 1",
    ]
    tree = outline_tree(reader)
    assert [title for title, _, _ in tree] == ["Dossier d'entretien", "Annexes du candidat"]
    sections = [title for title, _, _ in tree[0][2]]
    assert sections[:3] == ["Couverture", "Sommaire", "Plan de l'entretien"]
    gru = next(node for node in tree[0][2] if node[0].startswith("GRU – "))
    assert [t for t, _, _ in gru[2]][:2] == [
        "Situation 1 : Situation GRU",
        "Situation 2 : Rappel d'un assuré mécontent",
    ]
    assert {"Points à approfondir", "Grille d'évaluation"} <= set(sections)
    annexes = tree[1][2]
    assert annexes[0][0].startswith("GRU – ")
    situation = annexes[0][2][0]
    assert situation[0] == "Situation 2 : Rappel d'un assuré mécontent"
    assert [(t, p) for t, p, _ in situation[2]] == [
        ("Annexe 1 – courrier-anonymise.pdf", len(pages) - 3),
        ("Annexe 2 – fiche-contact.pdf", len(pages) - 1),
    ]
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "jury.pack_download")).all()
    assert [(a.object_id, a.actor_id) for a in audit] == [
        (str(convocation.id), convened["expert"].id)
    ]


def test_formation_candidate_pack_says_there_is_no_livret(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    jury, _ = _jury(db, world)
    famille = _expert(db, "famille", Branche.FAMILLE)
    assign_member(
        session=db, actor=SYSTEM, jury_session=jury, user=famille, quality="expert", now=NOW
    )
    convocation = _convene(db, jury, world.foreign)
    sign_in_as(client, db, settings, world.people["admin"])
    page = client.get(f"/jury/convocations/{convocation.id}/dossier")
    assert page.status_code == 200
    assert "Voie formation : pas de livret 2" in html.unescape(page.text)
    pdf = client.get(f"/jury/convocations/{convocation.id}/dossier.pdf")
    reader, pages = read(pdf.content)
    assert [t for t, _, _ in outline_tree(reader)] == ["Dossier d'entretien"]
    assert "Voie formation" in "\n".join(pages)


# --- the session batch -----------------------------------------------------------------------


@pytest.fixture
def inline_batch(monkeypatch: pytest.MonkeyPatch, connection: Connection) -> list[int]:
    """Run the batch inline, on the test's connection, instead of in a thread."""
    launched: list[int] = []

    def sessions(_request: object) -> tuple[Any, Any]:
        def factory() -> Session:
            return Session(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )

        return factory, factory

    def launch(job: Any) -> None:
        launched.append(job.args[2])
        job()

    monkeypatch.setattr(pack_views, "_job_sessions", sessions)
    monkeypatch.setattr(pack_views, "_launch", launch)
    return launched


def test_batch_builds_one_pdf_per_candidate_in_a_zip(
    client: TestClient,
    db: Session,
    settings: Settings,
    convened: dict[str, Any],
    inline_batch: list[int],
) -> None:
    world, jury = convened["world"], convened["jury"]
    famille = _expert(db, "famille", Branche.FAMILLE)
    assign_member(
        session=db, actor=SYSTEM, jury_session=jury, user=famille, quality="expert", now=NOW
    )
    _convene(db, jury, world.foreign, hour=13)
    token = sign_in_as(client, db, settings, convened["expert"])
    page = client.get(f"/jury/sessions/{jury.id}/dossiers")
    assert page.status_code == 200 and "Aucune préparation lancée" in page.text
    assert client.get(f"/jury/sessions/{jury.id}/dossiers.zip").status_code == 404
    started = client.post(
        f"/jury/sessions/{jury.id}/dossiers", data={"csrf_token": token}, follow_redirects=False
    )
    assert started.status_code == 303 and len(inline_batch) == 1
    fragment = client.get(f"/jury/sessions/{jury.id}/dossiers", headers={"HX-Request": "true"})
    assert "2 sur 2" in fragment.text and "<html" not in fragment.text
    assert "hx-trigger" not in fragment.text  # finished: polling stops
    archive = client.get(f"/jury/sessions/{jury.id}/dossiers.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as bundle:
        names = bundle.namelist()
        assert [n[:3] for n in names] == ["01-", "02-"]
        assert "test-candidat" in names[0] and "test-autrecandidat" in names[1]
        for name in names:
            assert PdfReader(io.BytesIO(bundle.read(name))).pages
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("jury.packs_%"))
    ).all()
    assert actions == ["jury.packs_build", "jury.packs_download"]
    # htmx: the POST answers with the fragment; a second batch replaces the first zip
    again = client.post(
        f"/jury/sessions/{jury.id}/dossiers",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200 and 'id="packs-progress"' in again.text
    batches = db.scalars(select(PackBatch).order_by(PackBatch.id)).all()
    assert [b.status for b in batches] == [BatchStatus.DONE.value] * 2
    assert batches[0].archive == "" and batches[1].archive
    assert sorted(p.name for p in pack_batch.packs_folder(settings).iterdir()) == [
        batches[1].archive
    ]


def test_running_batch_polls_and_a_stale_one_restarts(
    client: TestClient, db: Session, settings: Settings, convened: dict[str, Any]
) -> None:
    jury = convened["jury"]
    batch, started = pack_batch.start_batch(session=db, actor=SYSTEM, jury_session=jury, now=NOW)
    assert started and batch.total == 1
    again, started = pack_batch.start_batch(
        session=db, actor=SYSTEM, jury_session=jury, now=NOW + timedelta(minutes=1)
    )
    assert again.id == batch.id and not started
    sign_in_as(client, db, settings, convened["expert"])
    batch.updated_at = datetime.now(UTC)
    db.flush()
    fragment = client.get(f"/jury/sessions/{jury.id}/dossiers", headers={"HX-Request": "true"})
    assert "0 sur 1" in fragment.text and 'hx-trigger="every 1s"' in fragment.text
    later = batch.updated_at + pack_batch.STALE_AFTER + timedelta(seconds=1)
    fresh, started = pack_batch.start_batch(session=db, actor=SYSTEM, jury_session=jury, now=later)
    assert started and fresh.id != batch.id
    assert batch.status == BatchStatus.FAILED.value and "interrompue" in batch.error


def test_build_session_packs_reports_progress(
    db: Session, settings: Settings, convened: dict[str, Any]
) -> None:
    seen: list[tuple[int, int, str]] = []
    path = pack_batch.build_session_packs(
        db, convened["jury"], settings, progress=lambda *args: seen.append(args), now=NOW
    )
    assert seen == [(0, 1, ""), (1, 1, "Candidat Test")]
    assert path.parent == Path(settings.data_dir) / "packs" and path.suffix == ".zip"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]
    with zipfile.ZipFile(path) as bundle:
        assert len(bundle.namelist()) == 1


def test_no_submitted_edition_is_said(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    jury, _ = _jury(db, world)
    get_or_open(db, world.own)
    convocation = _convene(db, jury, world.own)
    sign_in_as(client, db, settings, world.people["admin"])
    page = client.get(f"/jury/convocations/{convocation.id}/dossier")
    assert "Aucune édition du livret 2 n'a été soumise" in html.unescape(page.text)


def test_batch_runs_in_a_background_thread_on_its_own_sessions(tmp_path: Path) -> None:
    """The real launch: a thread with its own read and write sessions on a committed database
    (a scratch SQLite file: the test transaction of the other tests is invisible to a thread)."""
    import threading
    import time

    from portal.db import make_engine, make_session_factory, writer
    from portal.migrate import upgrade
    from vae.referentiel import loader
    from vae.referentiel.service import load_version

    settings = load_settings(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'thread.sqlite3'}", "DATA_DIR": str(tmp_path)}
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    read, write = make_session_factory(engine), make_session_factory(writer(engine))
    with write() as db:
        load_version(session=db, referentiel=loader.load())
        world = build_world(db)
        jury, _ = _jury(db, world)
        get_or_open(db, world.own)
        _convene(db, jury, world.own)
        batch, started = pack_batch.start_batch(
            session=db, actor=SYSTEM, jury_session=jury, now=datetime.now(UTC)
        )
        db.commit()
        batch_id = batch.id
    assert started
    before = {t.name for t in threading.enumerate()}
    pack_views._launch(lambda: pack_batch.run_batch(read, write, batch_id, settings))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with read() as db:
            row = db.get(PackBatch, batch_id)
            assert row is not None
            if row.status != BatchStatus.RUNNING.value:
                break
        time.sleep(0.05)
    assert row.status == BatchStatus.DONE.value, row.error
    assert (row.done, row.total) == (1, 1)
    assert (pack_batch.packs_folder(settings) / row.archive).is_file()
    assert "interview-packs" not in before
    engine.dispose()
