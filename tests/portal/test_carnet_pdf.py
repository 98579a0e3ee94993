"""The carnet PDF: what it says, that user text stays text, that tampering shows."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from carnet.models import Attestation, AttestationVersion, Carnet
from carnet.queries import CarnetData, load_carnet
from carnet.service import (
    AttestationInput,
    SignatureCheck,
    check_signature,
    save_draft,
    save_milestone,
    save_self_assessment,
    sign,
    version_hash,
)
from portal.pdf.carnet import carnet_pdf
from tests.portal.world import World, build_world
from vae.audit.service import Actor
from vae.parcours.models import HeldBloc, Parcours
from vae.people.models import User
from vae.referentiel.model import Competence
from vae.referentiel.models import CompetenceRecord

NOW = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
GENERATED = datetime(2026, 10, 20, 16, 5, tzinfo=UTC)
TYPED = '<b>gras</b> & "guillemets"'
C4 = "GRU-C4"  # its criterion 4 reads "Met en œuvre les procédures/process…"


def as_actor(user: User) -> Actor:
    return Actor(user_id=user.id, label=user.full_name, ip="192.0.2.10")


def competence_of(data: CarnetData, key: str) -> Competence:
    return next(c for _, c in data.certification.competences() if c.key == key)


def hand_over(db: Session, parcours: Parcours, day: date = date(2026, 9, 3)) -> None:
    db.add(Carnet(parcours_id=parcours.id, handed_over_on=day))
    db.flush()


def attest(
    db: Session,
    data: CarnetData,
    user: User,
    key: str,
    *,
    observed: int | None = None,
    verdict: str = "maitrisee",
    description: str = "Entretien téléphonique avec une assurée sur ses droits.",
    comment: str = "",
    signed: bool = True,
    now: datetime = NOW,
) -> AttestationVersion:
    """Save a draft for ``key`` (the first ``observed`` criteria, all by default); sign it."""
    parcours = data.parcours
    competence = competence_of(data, key)
    row = db.get(CompetenceRecord, data.competence_ids[key])
    assert row is not None
    role = "tuteur" if user.id == parcours.tutor_id else "manager"
    thread = db.scalar(
        select(Attestation).where(
            Attestation.parcours_id == parcours.id,
            Attestation.competence_id == row.id,
            Attestation.role == role,
        )
    )
    latest = thread.versions[-1] if thread is not None and thread.versions else None
    version = save_draft(
        session=db,
        actor=as_actor(user),
        user=user,
        parcours=parcours,
        competence_row=row,
        competence=competence,
        data=AttestationInput(
            situation_date="2026-10-02",
            situation_kind="accueil_telephonique",
            description=description,
            observed=list(competence.criterion_keys[:observed]),
            verdict=verdict,
            comment=comment,
        ),
        base_number=latest.number if latest is not None else 0,
        lock_version=latest.lock_version if latest is not None else 0,
        now=now,
    )
    if not signed:
        return version
    return sign(
        session=db,
        actor=as_actor(user),
        user=user,
        parcours=parcours,
        version=version,
        competence_key=key,
        confirmed_hash=version_hash(version, parcours.id, key),
        now=now,
    )


def checks_for(db: Session, data: CarnetData) -> dict[int, SignatureCheck]:
    """What the caller of ``carnet_pdf`` computes: a check for every signed version."""
    return {
        version.id: check_signature(db, version, data.parcours.id, key)
        for (key, _role), attestation in data.attestations.items()
        for version in attestation.versions
        if version.signed
    }


def pdf_text(pdf: bytes) -> tuple[PdfReader, list[str], str]:
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() or "" for page in reader.pages]
    return reader, pages, " ".join(" ".join(pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def world(db: Session) -> World:
    world = build_world(db)
    hand_over(db, world.own)
    return world


def test_carnet_pdf_shows_everything_with_its_evidence(db: Session, world: World) -> None:
    parcours, tutor, manager = world.own, world.people["tuteur"], world.people["manager"]
    candidate = world.people["candidat"]
    db.add(HeldBloc(parcours_id=parcours.id, bloc_key="MDR", origin="CCP du CQP GC 2024"))
    db.flush()
    db.refresh(parcours)
    data = load_carnet(db, parcours)
    save_self_assessment(
        session=db,
        actor=as_actor(candidate),
        user=candidate,
        parcours=parcours,
        competence=db.get(CompetenceRecord, data.competence_ids[C4]),
        level="en_cours",
        comment=f"Je progresse sur l'accueil difficile. {TYPED}",
        lock_version=0,
        now=NOW,
    )
    first = attest(db, data, tutor, C4, verdict="en_cours", observed=2)
    second = attest(db, data, tutor, C4, comment=TYPED, description="Usager très agressif.")
    attest(db, data, tutor, C4, signed=False, description="Correction en cours.")
    attest(db, data, manager, C4, observed=3)  # "maîtrisée" with 3 of 5: the carnet says so
    save_milestone(
        session=db,
        actor=as_actor(tutor),
        user=tutor,
        parcours=parcours,
        kind="positionnement",
        day="2026-09-10",
        participant_ids=[candidate.id, tutor.id],
        other_participants="Mme Référente RH",
        notes="Objectifs fixés : accueil physique.",
        lock_version=0,
        now=NOW,
    )
    data = load_carnet(db, parcours)
    checks = checks_for(db, data)

    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.connection(), "before_cursor_execute", listener)
    try:
        pdf = carnet_pdf(data, generated_at=GENERATED, signature_checks=checks)
    finally:
        event.remove(db.connection(), "before_cursor_execute", listener)
    assert statements == []  # pure rendering

    reader, pages, text = pdf_text(pdf)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} sur {len(pages)}" in page
        assert "Mme Candidat Test · CQP COS" in page  # running footer
    competence = competence_of(data, C4)
    assert "Mme Candidat Test" in text
    assert flat(f"C4 – {competence.label}") in text
    assert flat(competence.criteria[3].label) in text and "œuvre" in text
    assert "Mme Tuteur Test" in text and "Mme Manager Test" in text
    assert f"Empreinte SHA-256 du contenu signé : {second.content_hash}" in text
    assert first.content_hash is not None and first.content_hash in text  # earlier version
    assert "Version antérieure 1" in text
    assert "Version 3" in text and "brouillon non signé, non pris en compte" in text
    assert "Signature valide" in text and "Signature rompue" not in text
    assert "192.0.2.10" in text and "15/10/2026 à 09:30:00 UTC" in text
    assert "Je progresse sur l'accueil difficile." in text
    assert text.count(TYPED) == 2  # the comment and the self-assessment, escaped not interpreted
    assert "Usager très agressif." in text and "Correction en cours." not in text
    assert "verdict et critères divergent" in text  # manager: maîtrisée with 3 of 5
    assert "ne sont pas d'accord" not in text  # both say maîtrisée
    assert "déjà détenu" in text and "CCP du CQP GC 2024" in text
    assert "10/09/2026" in text and "Mme Référente RH" in text and "Objectifs fixés" in text
    assert "Bilan final" in text and "Non renseigné." in text
    assert "Pré-positionnement" in text and "non renseigné" in text
    assert "auto-évaluation" in text and "n'est pas une évaluation" in text
    assert "Document généré le 20/10/2026 à 16:05 UTC" in text
    assert "Remise du carnet 03/09/2026" in text and "CPAM Test – branche Maladie" in text

    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Carnet de suivi des compétences – Mme Candidat Test – CQP COS"
    assert metadata.author == "Plateforme CQP"
    assert "RNCP35543" in (metadata.subject or "")
    assert reader.trailer["/Root"].get("/Lang") == "fr-FR"
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("DejaVuSans" in name for name in fonts)  # embedded, nothing else

    outline = {
        reader.outline[i].title: i
        for i in range(len(reader.outline))
        if not isinstance(reader.outline[i], list)
    }
    assert list(outline) == [
        "Couverture",
        "GRU – Gestion de la relation usagers de la Sécurité sociale",
        *[item for item in outline if item.startswith(("MDR", "POS", "TD"))],
        "Étapes du parcours",
    ]
    last = reader.get_destination_page_number(reader.outline[outline["Étapes du parcours"]])
    assert "Étapes du parcours" in pages[last] and "Page 1 " not in pages[last]


def test_tampered_attestation_reads_signature_rompue(db: Session, world: World) -> None:
    parcours = world.own
    data = load_carnet(db, parcours)
    version = attest(db, data, world.people["tuteur"], "GRU-C1")
    attest(db, data, world.people["manager"], "GRU-C1")
    db.execute(
        update(AttestationVersion)
        .where(AttestationVersion.id == version.id)
        .values(description="Texte modifié après la signature.")
    )
    db.expire_all()
    data = load_carnet(db, parcours)
    checks = checks_for(db, data)
    assert not checks[version.id].valid

    _, _, text = pdf_text(carnet_pdf(data, generated_at=GENERATED, signature_checks=checks))
    assert "Texte modifié après la signature." in text
    assert "Signature rompue : le contenu ne correspond plus à ce qui a été signé." in text
    assert "Signature rompue sur l'attestation du tuteur" in text  # next to the competence state
    assert text.count("Signature valide") == 1  # the manager's, untouched


def test_an_empty_carnet_still_renders(db: Session) -> None:
    world = build_world(db)  # open_parcours alone: no carnet row, nothing attested
    data = load_carnet(db, world.own)
    reader, pages, text = pdf_text(carnet_pdf(data, generated_at=NOW, signature_checks={}))
    assert len(pages) >= 2
    assert "carnet non remis" in text
    assert "aucune attestation signée" in text and "Pas encore attestée" in text
    assert text.count("Non renseigné.") == 3  # the three milestones
    assert "signée par" not in text


def test_hostile_text_neither_breaks_the_layout_nor_the_markup(db: Session, world: World) -> None:
    parcours = world.own
    db.add(HeldBloc(parcours_id=parcours.id, bloc_key="TD", origin="Origine très longue. " * 400))
    db.flush()
    db.refresh(parcours)
    data = load_carnet(db, parcours)
    attest(
        db,
        data,
        world.people["tuteur"],
        "GRU-C2",
        description="x" * 4000,  # no space to break on
        comment="\n" * 200 + "<para>fin</para> ]]> &amp; \x0b\x1b 😀",
    )
    data = load_carnet(db, parcours)
    pdf = carnet_pdf(data, generated_at=NOW, signature_checks=checks_for(db, data))
    _, pages, text = pdf_text(pdf)
    assert all(f"sur {len(pages)}" in page for page in pages)
    assert "<para>fin</para> ]]> &amp;" in text
    assert text.count("Origine très longue.") >= 400
