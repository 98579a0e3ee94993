"""A candidate with everything the RGPD export and the retention touch: a signed attestation,
a self-assessment, a milestone, a livret (profile, situation, annex file, a submitted edition),
a signed evaluation with avis, signature and recours, a national decision and proclamation,
and a sealed certificate."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.models import Carnet, Milestone, SelfAssessment
from carnet.service import AttestationInput, save_draft, sign, version_hash
from portal.settings import Settings
from tests.fixtures.pdfs import valid_pdf
from tests.portal.policy_certificates import issue_certificate
from tests.portal.world import World
from vae.audit.service import Actor
from vae.decision.models import (
    AvisSignature,
    BlocAvis,
    Certificate,
    Deliberation,
    Evaluation,
    NationalDossier,
    Proclamation,
    Recours,
)
from vae.jury.models import Convocation, JuryMember, JurySession
from vae.livret import service as livret_service
from vae.livret.annexes import annex_folder
from vae.livret.models import Annex, LivretStatus, LivretSubmission, Situation
from vae.parcours.models import Parcours
from vae.referentiel.models import CompetenceRecord
from vae.referentiel.service import get_referentiel

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
SECRET = "Mme Dupont, assurée à Bobigny"  # content that must disappear at retention
ANNEX_NAME = "Courrier: réponse à l'assurée?.pdf"


@dataclass
class Rich:
    parcours: Parcours
    annex: Annex
    annex_bytes: bytes
    certificate: Certificate
    evaluation: Evaluation


def _attestation(db: Session, world: World, parcours: Parcours) -> None:
    tutor = world.people["tuteur"]
    referentiel = get_referentiel(db)
    row = db.scalars(select(CompetenceRecord).where(CompetenceRecord.key == "GRU-C1")).first()
    assert referentiel is not None and row is not None
    actor = Actor(tutor.id, tutor.full_name, "10.9.9.9")
    version = save_draft(
        session=db,
        actor=actor,
        user=tutor,
        parcours=parcours,
        competence_row=row,
        competence=referentiel.blocs["GRU"].competence("GRU-C1"),
        data=AttestationInput(
            situation_date="2026-11-02",
            situation_kind="accueil_telephonique",
            description=f"Accueil de {SECRET}.",
            observed=["GRU-C1-1", "GRU-C1-2"],
            verdict="maitrisee",
            comment="Très à l'écoute.",
        ),
        base_number=0,
        lock_version=0,
        now=NOW,
    )
    sign(
        session=db,
        actor=actor,
        user=tutor,
        parcours=parcours,
        version=version,
        competence_key="GRU-C1",
        confirmed_hash=version_hash(version, parcours.id, "GRU-C1"),
        now=NOW,
    )
    db.add(
        SelfAssessment(
            parcours_id=parcours.id,
            competence_id=row.id,
            level="en_cours",
            comment=f"Je progresse avec {SECRET}.",
        )
    )
    db.add(
        Milestone(
            parcours_id=parcours.id,
            kind="positionnement",
            day=date(2026, 9, 10),
            participant_ids=[parcours.candidate_id, tutor.id],
            other_participants="M. Martin, RRH",
            notes=f"Point sur {SECRET}.",
        )
    )


def _livret(db: Session, settings: Settings, parcours: Parcours) -> tuple[Annex, bytes]:
    livret = livret_service.get_or_open(db, parcours)
    livret.current_job = "Conseillère offre de services"
    livret.current_service = "Accueil de Bobigny"
    livret.career = [{"job": "Agent d'accueil", "employer": "CPAM 93", "from": "", "to": ""}]
    situation = Situation(
        livret=livret,
        bloc_key="GRU",
        title="Accueil d'une assurée en difficulté",
        organisme_service="CPAM 93, accueil",
        context=f"J'ai reçu {SECRET}.",
        actions="J'ai écouté et orienté.",
        result="Dossier régularisé.",
        competence_keys=["GRU-C1"],
        criterion_keys=["GRU-C1-1"],
    )
    data = valid_pdf(text="Annexe anonymisée")
    stored = f"{uuid.uuid4().hex}.pdf"
    folder = annex_folder(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    annex = Annex(
        situation=situation,
        original_name=ANNEX_NAME,
        stored_name=stored,
        size=len(data),
        pages=1,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.add(annex)
    db.flush()
    db.refresh(livret)
    content = livret_service.snapshot(livret)
    db.add(
        LivretSubmission(
            livret=livret,
            edition=1,
            snapshot=content,
            content_hash=livret_service.snapshot_hash(content),
            submitted_at=NOW,
            signer_id=parcours.candidate_id,
            signer_ip="192.0.2.7",
        )
    )
    livret.status = LivretStatus.SUBMITTED.value
    db.flush()
    return annex, data


def _decisions(db: Session, world: World, parcours: Parcours) -> Evaluation:
    jury = JurySession(kind="professionnel", day=date(2027, 2, 9), place="Montreuil", capacity=8)
    national = JurySession(kind="national", day=date(2027, 2, 25), place="Paris", capacity=50)
    db.add_all([jury, national])
    db.flush()
    member = world.people["jury_pro"]
    db.add(JuryMember(session_id=jury.id, user_id=member.id, quality="president"))
    convocation = Convocation(
        session_id=jury.id,
        parcours_id=parcours.id,
        at=datetime(2027, 2, 9, 9, tzinfo=UTC),
        place="Montreuil",
    )
    db.add(convocation)
    db.flush()
    evaluation = Evaluation(
        convocation_id=convocation.id,
        session_id=jury.id,
        parcours_id=parcours.id,
        marks={"GRU-C1-1": True, "GRU-C1-2": False},
        comments={"GRU-C1": f"Bonne posture avec {SECRET}."},
        content_hash="a" * 64,
        frozen_at=NOW,
        signed_at=NOW,
    )
    db.add(evaluation)
    db.flush()
    db.add(
        BlocAvis(
            evaluation_id=evaluation.id,
            bloc_key="GRU",
            favourable=False,
            justification="Écart avec la grille.",
            recommendations="Travailler la reformulation.",
        )
    )
    db.add(
        AvisSignature(
            evaluation_id=evaluation.id,
            user_id=member.id,
            quality="president",
            signed_at=NOW,
            ip="198.51.100.4",
            content_hash="a" * 64,
        )
    )
    db.add(
        Recours(
            evaluation_id=evaluation.id,
            text="Je conteste l'avis.",
            filed_by_id=parcours.candidate_id,
        )
    )
    dossier = NationalDossier(
        session_id=national.id, evaluation_id=evaluation.id, parcours_id=parcours.id
    )
    db.add(dossier)
    db.flush()
    db.add(
        Deliberation(
            dossier_id=dossier.id, bloc_key="GRU", validated=True, reason="Jury souverain."
        )
    )
    db.add(
        Proclamation(session_id=national.id, proclaimed_at=datetime(2027, 2, 25, 17, tzinfo=UTC))
    )
    db.flush()
    db.refresh(evaluation)
    return evaluation


def build_rich(db: Session, settings: Settings, world: World, *, end: date | None) -> Rich:
    """Everything on ``world.own`` (a VAE parcours), ended on ``end``."""
    parcours = world.own
    parcours.end_date = end
    db.add(Carnet(parcours_id=parcours.id, handed_over_on=parcours.start_date))
    _attestation(db, world, parcours)
    annex, data = _livret(db, settings, parcours)
    evaluation = _decisions(db, world, parcours)
    certificate = issue_certificate(db, settings, parcours, bloc_key="GRU")
    db.flush()
    return Rich(parcours, annex, data, certificate, evaluation)
