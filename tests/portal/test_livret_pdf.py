"""The livret PDF: content, contents page numbers, merged annexes and their outline, frozen
editions, missing files, escaping, and the download route."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.pdf.livret import livret_pdf
from portal.pdf.livret_parts import RUBRIC_HEADINGS
from portal.settings import Settings
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.audit.service import Actor
from vae.livret.models import Annex, Livret, LivretSubmission, Situation
from vae.livret.rules import RUBRICS
from vae.livret.service import (
    SituationInput,
    add_situation,
    get_or_open,
    return_for_correction,
    save_profile,
    save_situation,
    submit,
)
from vae.parcours.models import HeldBloc, Parcours
from vae.people.models import User
from vae.referentiel.model import Certification
from vae.referentiel.service import get_referentiel

NOW = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
GENERATED = datetime(2026, 10, 20, 16, 5, tzinfo=UTC)
TYPED = '<b>gras</b> & "guillemets"'
GRU_C1 = "GRU-C1"


def as_actor(user: User) -> Actor:
    return Actor(user_id=user.id, label=user.full_name, ip="192.0.2.10")


def certification_of(db: Session, parcours: Parcours) -> Certification:
    referentiel = get_referentiel(db, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel.certification(parcours.certification.code)


def fill_profile(db: Session, livret: Livret, candidate: User) -> None:
    save_profile(
        session=db,
        actor=as_actor(candidate),
        user=candidate,
        livret=livret,
        current_job="Conseillère offres de services",
        current_service="Accueil et relation client, plateforme téléphonique",
        career=[
            {
                "job": "Téléconseillère",
                "employer": "CPAM de Lyon",
                "from": "2015-03-01",
                "to": "2019-08-31",
            },
            {
                "job": "Conseillère d'accueil",
                "employer": "CPAM Test",
                "from": "2019-09-01",
                "to": "",
            },
        ],
        trainings=[
            {
                "title": "Accueil des publics fragiles",
                "body": "Institut 4.10",
                "date": "2021-05-20",
            },
        ],
        lock_version=livret.profile_lock,
        now=NOW,
    )


def write_situation(
    db: Session,
    livret: Livret,
    certification: Certification,
    candidate: User,
    bloc_key: str,
    *,
    title: str,
    rubric: str = "",
    competences: int = 2,
    criteria: int = 2,
) -> Situation:
    """A complete situation of ``bloc_key`` claiming its first ``competences`` competences and
    the first ``criteria`` criteria of the first one."""
    situation = add_situation(
        session=db,
        actor=as_actor(candidate),
        user=candidate,
        livret=livret,
        certification=certification,
        bloc_key=bloc_key,
        now=NOW,
    )
    chosen = certification.bloc(bloc_key).bloc.competences[:competences]
    texts = {name: rubric or f"{RUBRIC_HEADINGS[name]} de « {title} »." for name in RUBRICS}
    save_situation(
        session=db,
        actor=as_actor(candidate),
        user=candidate,
        situation=situation,
        certification=certification,
        data=SituationInput(
            title=title,
            period_from="2025-03-01",
            period_to="2025-06-30",
            organisme_service="CPAM Test, service accueil",
            competence_keys=[c.key for c in chosen],
            criterion_keys=list(chosen[0].criterion_keys[:criteria]) if chosen else [],
            **texts,
        ),
        lock_version=situation.lock_version,
        now=NOW,
    )
    return situation


def annex_bytes(label: str, pages: int) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for page in range(1, pages + 1):
        canvas.setFont("Helvetica", 14)
        canvas.drawString(72, 720, f"{label} page {page}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def attach(db: Session, folder: Path, situation: Situation, name: str, pages: int) -> Annex:
    """Write a small PDF into the annex folder and its row, as an upload would."""
    folder.mkdir(parents=True, exist_ok=True)
    data = annex_bytes(Path(name).stem.upper(), pages)
    stored = f"{uuid.uuid4().hex}.pdf"
    (folder / stored).write_bytes(data)
    annex = Annex(
        situation=situation,
        original_name=name,
        stored_name=stored,
        size=len(data),
        pages=pages,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=NOW,
    )
    db.add(annex)
    db.flush()
    return annex


def flat(text: str) -> str:
    return " ".join(text.split())


def read(pdf: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, [flat(page.extract_text() or "") for page in reader.pages]


def livret_pages(pages: list[str]) -> int:
    found = re.search(r"Page 1 sur (\d+)", pages[0])
    assert found, pages[0]
    return int(found.group(1))


def outline_tree(reader: PdfReader, items: list[Any] | None = None) -> list[Any]:
    """[(title, page index, children)] from pypdf's nested outline lists."""
    items = reader.outline if items is None else items
    tree: list[Any] = []
    for item in items:
        if isinstance(item, list):
            title, page, _ = tree[-1]
            tree[-1] = (title, page, outline_tree(reader, item))
        else:
            tree.append((item.title, reader.get_destination_page_number(item), []))
    return tree


def render(db: Session, world: World, livret: Livret, folder: Path, **kw: Any) -> bytes:
    parcours = world.own
    return livret_pdf(
        livret=livret,
        certification=certification_of(db, parcours),
        candidate=parcours.candidate,
        employer=parcours.employer,
        annex_dir=folder,
        generated_at=GENERATED,
        **kw,
    )


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "annexes"


def test_draft_livret_with_annexes_outline_and_contents(
    db: Session, world: World, folder: Path
) -> None:
    candidate = world.people["candidat"]
    db.add(HeldBloc(parcours_id=world.own.id, bloc_key="MDR", origin="CCP du CQP GC 2024"))
    db.flush()
    db.refresh(world.own)
    livret = get_or_open(db, world.own)
    certification = certification_of(db, world.own)
    fill_profile(db, livret, candidate)
    first = write_situation(
        db,
        livret,
        certification,
        candidate,
        "GRU",
        title="Accueil d'une assurée en difficulté",
        rubric=f"J'ai reçu l'assurée au cœur de l'agence.\n\n{TYPED}\nÉcoute, reformulation.",
    )
    second = write_situation(db, livret, certification, candidate, "GRU", title="Rappel sortant")
    third = write_situation(db, livret, certification, candidate, "TD", title="Tutorat d'un pair")
    attach(db, folder, first, "courrier-anonymise.pdf", 2)
    attach(db, folder, first, "tableau-de-suivi.pdf", 1)
    attach(db, folder, third, "grille-tutorat.pdf", 3)

    reader, pages = read(render(db, world, livret, folder))

    total = livret_pages(pages)
    assert len(reader.pages) == total + 2 + 1 + 3
    text = " ".join(pages[:total])
    assert "Livret 2 de VAE" in pages[0] and "Mme Candidat Test" in pages[0]
    assert all("Brouillon — non soumis" in page for page in pages[:total])
    assert all(f"Page {n} sur {total}" in pages[n - 1] for n in range(1, total + 1))
    for expected in (
        "Accueil d'une assurée en difficulté",
        "J'ai reçu l'assurée au cœur de l'agence.",
        TYPED,  # typed markup stays text
        "Ce que j'en retiens",
        "Compétences mises en œuvre",
        "Conseillère offres de services",
        "Téléconseillère",
        "CPAM de Lyon",
        "01/03/2015",
        "à ce jour",
        "Accueil des publics fragiles",
        "Institut 4.10",
        "du 01/03/2025 au 30/06/2025",
        "Bloc déjà détenu : CCP du CQP GC 2024",
        "courrier-anonymise.pdf",
        "Non signée : ce livret est un brouillon.",
    ):
        assert flat(expected) in text, expected
    c1 = certification.bloc("GRU").bloc.competence(GRU_C1)
    assert flat(f"{c1.number} – {c1.label}") in text
    assert flat(f"critère 1 : {c1.criteria[0].label}") in text
    assert "gras</b>" in text and "<b>gras" in text

    # contents: every part, bloc and situation with the page its heading is on
    # (layout mode: the numbers are written last, when every page is known)
    contents = flat(reader.pages[1].extract_text(extraction_mode="layout"))
    assert "Sommaire" in contents
    for title in ("Accueil d'une assurée en difficulté", "Rappel sortant", "Tutorat d'un pair"):
        found = re.search(re.escape(f"{title}") + r"[ .]*?(\d+)", contents)
        assert found, title
        page = int(found.group(1))
        assert f"Situation {1 if title != 'Rappel sortant' else 2} : {title}" in pages[page - 1]
        assert all(title not in p for p in pages[2 : page - 1]), title
    found = re.search(r"Déclaration sur l'honneur[ .]*?(\d+)", contents)
    assert found and "Déclaration sur l'honneur" in pages[int(found.group(1)) - 1]
    annex_line = re.search(
        r"Annexe 3 – grille-tutorat\.pdf \(TD, situation 1\)[ .]*?(\d+)", contents
    )
    assert annex_line and int(annex_line.group(1)) == total + 4

    # outline: Livret (its sections) and Annexes → bloc → situation → file, at the first page
    tree = outline_tree(reader)
    assert [(t, p) for t, p, _ in tree] == [("Livret", 0), ("Annexes", total)]
    livret_titles = [t for t, _, _ in tree[0][2]]
    assert livret_titles[:3] == ["Couverture", "Sommaire", "Le candidat et son parcours"]
    assert livret_titles[-1] == "Déclaration sur l'honneur"
    annexes = tree[1][2]
    assert [t for t, _, _ in annexes] == [
        f"GRU – {certification.bloc('GRU').title}",
        f"TD – {certification.bloc('TD').title}",
    ]
    gru_situations = annexes[0][2]
    assert [(t, p) for t, p, _ in gru_situations] == [
        ("Situation 1 : Accueil d'une assurée en difficulté", total)
    ]
    assert [(t, p) for t, p, _ in gru_situations[0][2]] == [
        ("Annexe 1 – courrier-anonymise.pdf", total),
        ("Annexe 2 – tableau-de-suivi.pdf", total + 2),
    ]
    assert [(t, p) for t, p, _ in annexes[1][2][0][2]] == [
        ("Annexe 3 – grille-tutorat.pdf", total + 3)
    ]
    assert "COURRIER-ANONYMISE page 1" in pages[total]
    assert "TABLEAU-DE-SUIVI page 1" in pages[total + 2]
    assert "GRILLE-TUTORAT page 3" in pages[-1]
    assert second.annexes == []


def test_submitted_edition_is_the_frozen_snapshot(db: Session, world: World, folder: Path) -> None:
    candidate, admin = world.people["candidat"], world.people["admin"]
    livret = get_or_open(db, world.own)
    certification = certification_of(db, world.own)
    fill_profile(db, livret, candidate)
    situations = [
        write_situation(db, livret, certification, candidate, key, title=f"Situation {key}")
        for key in certification.bloc_keys
    ]
    attach(db, folder, situations[0], "piece.pdf", 2)
    submission = submit(
        session=db,
        actor=as_actor(candidate),
        user=candidate,
        livret=livret,
        certification=certification,
        sworn=True,
        now=NOW,
    )
    # the working copy changes behind the frozen edition's back
    db.execute(
        update(Situation)
        .where(Situation.id == situations[0].id)
        .values(title="Titre changé après soumission", actions="Texte changé")
    )
    db.expire_all()

    reader, pages = read(render(db, world, livret, folder))
    total = livret_pages(pages)
    text = " ".join(pages[:total])
    assert len(reader.pages) == total + 2
    assert "Situation GRU" in text and "Titre changé" not in text and "Texte changé" not in text
    assert "Brouillon" not in text
    assert "soumis le 15/10/2026 à 09:30 UTC" in pages[0]
    assert all("édition 1 soumise le 15/10/2026" in page for page in pages[1:total])
    assert "Je déclare sur l'honneur" in text and "Mme Candidat Test" in text
    assert flat(submission.content_hash) in text.replace(" ", " ")
    assert "le contenu reproduit ici est celui qui a été signé" in text

    # returned for correction: the draft of edition 2 by default, edition 1 still frozen
    return_for_correction(
        session=db, actor=as_actor(admin), user=admin, livret=livret, reason="Préciser", now=NOW
    )
    _, draft = read(render(db, world, livret, folder))
    assert "Titre changé après soumission" in " ".join(draft) and "Brouillon" in draft[0]
    _, frozen = read(render(db, world, livret, folder, submission=submission))
    assert "Titre changé" not in " ".join(frozen)
    assert "Édition renvoyée pour correction" in frozen[0] and "Préciser" in frozen[0]

    # a frozen edition altered in the database no longer matches what was signed
    tampered = dict(submission.snapshot, profile={**submission.snapshot["profile"], "career": []})
    db.execute(
        update(LivretSubmission)
        .where(LivretSubmission.id == submission.id)
        .values(snapshot=tampered)
    )
    db.expire_all()
    _, altered = read(render(db, world, livret, folder, submission=submission))
    assert "ne correspond plus à l'empreinte signée" in " ".join(altered)


def test_missing_or_altered_annex_gets_a_page_instead(
    db: Session, world: World, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    candidate = world.people["candidat"]
    livret = get_or_open(db, world.own)
    certification = certification_of(db, world.own)
    situation = write_situation(db, livret, certification, candidate, "GRU", title="Accueil")
    gone = attach(db, folder, situation, "disparue.pdf", 3)
    altered = attach(db, folder, situation, "modifiee.pdf", 1)
    kept = attach(db, folder, situation, "presente.pdf", 2)
    (folder / gone.stored_name).unlink()
    (folder / altered.stored_name).write_bytes(annex_bytes("AUTRE", 1))

    with caplog.at_level(logging.WARNING, logger="portal.pdf.annexes"):
        reader, pages = read(render(db, world, livret, folder))

    total = livret_pages(pages)
    assert len(reader.pages) == total + 1 + 1 + 2
    assert "Annexe indisponible" in pages[total] and "disparue.pdf" in pages[total]
    assert "fichier introuvable" in pages[total]
    assert "Annexe indisponible" in pages[total + 1] and "empreinte" in pages[total + 1]
    assert "PRESENTE page 1" in pages[total + 2]
    assert gone.stored_name in caplog.text and altered.stored_name in caplog.text
    assert "indisponible" in " ".join(pages[:total])
    annexes = outline_tree(reader)[1][2][0][2][0][2]
    assert [p for _, p, _ in annexes] == [total, total + 1, total + 2]
    assert kept.pages == 2


def test_empty_livret_renders(db: Session, world: World, folder: Path) -> None:
    livret = get_or_open(db, world.own)
    reader, pages = read(render(db, world, livret, folder))
    total = livret_pages(pages)
    assert len(reader.pages) == total
    assert "Aucune situation décrite pour ce bloc." in " ".join(pages)
    assert [t for t, _, _ in outline_tree(reader)] == ["Livret"]


# --- the route -------------------------------------------------------------------------------


def test_route_serves_the_candidate_and_the_tutor_audited(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    candidate = world.people["candidat"]
    livret = get_or_open(db, world.own)
    certification = certification_of(db, world.own)
    situation = write_situation(db, livret, certification, candidate, "GRU", title="Accueil")
    attach(db, settings.data_dir / "annexes", situation, "piece.pdf", 2)
    url = f"/parcours/{world.own.id}/livret.pdf"

    sign_in_as(client, db, settings, candidate)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="livret-{world.own.id}-brouillon.pdf"'
    )
    reader, pages = read(response.content)
    assert len(reader.pages) == livret_pages(pages) + 2
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "livret.pdf_download")).one()
    assert entry.actor_id == candidate.id and entry.subject_id == candidate.id
    assert entry.details == {"livret": livret.id, "edition": 1, "submitted": False}
    assert client.get(f"{url}?edition=2").status_code == 404
    assert client.get(f"{url}?edition=x").status_code == 404

    sign_in_as(client, db, settings, world.people["tuteur"])
    assert client.get(url).status_code == 200

    sign_in_as(client, db, settings, world.people["other_candidat"])
    assert client.get(url).status_code == 404


def test_route_serves_submitted_editions(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    candidate = world.people["candidat"]
    livret = get_or_open(db, world.own)
    certification = certification_of(db, world.own)
    fill_profile(db, livret, candidate)
    for key in certification.bloc_keys:
        write_situation(db, livret, certification, candidate, key, title=f"Situation {key}")
    submit(
        session=db,
        actor=as_actor(candidate),
        user=candidate,
        livret=livret,
        certification=certification,
        sworn=True,
        now=NOW,
    )
    url = f"/parcours/{world.own.id}/livret.pdf"
    sign_in_as(client, db, settings, world.people["referent"])
    response = client.get(url)
    assert response.status_code == 200
    assert 'filename="livret-' in response.headers["content-disposition"]
    assert "edition-1" in response.headers["content-disposition"]
    _, pages = read(response.content)
    assert "Brouillon" not in pages[0]
    assert client.get(f"{url}?edition=1").status_code == 200
    assert client.get(f"{url}?edition=2").status_code == 404


def test_formation_parcours_has_no_livret(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])
    assert client.get(f"/parcours/{world.foreign.id}/livret.pdf").status_code == 404
    assert client.get(f"/parcours/{world.own.id}/livret.pdf").status_code == 200
