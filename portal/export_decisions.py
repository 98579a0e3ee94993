"""The decisions part of the RGPD export: convocations, signed avis, recours, national
decisions, certificates, and the avis a jury member signed (``portal.export_data``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.export_data import iso, name
from vae.decision.models import (
    AvisSignature,
    Certificate,
    Evaluation,
    NationalDossier,
)
from vae.decision.national import proclamation_of
from vae.jury.models import Convocation, JurySession
from vae.parcours.models import Parcours
from vae.people.models import User


def decisions_json(session: Session, parcours: Parcours) -> dict[str, Any]:
    convocations = session.scalars(
        select(Convocation).where(Convocation.parcours_id == parcours.id).order_by(Convocation.at)
    )
    evaluations = session.scalars(
        select(Evaluation)
        .where(Evaluation.parcours_id == parcours.id, Evaluation.signed_at.is_not(None))
        .order_by(Evaluation.id)
    )
    dossiers = session.scalars(
        select(NationalDossier)
        .where(NationalDossier.parcours_id == parcours.id)
        .order_by(NationalDossier.id)
    )
    return {
        "convocations": [
            {
                "session": c.session_id,
                "date": iso(c.at),
                "lieu": c.place,
                "date_precedente": iso(c.previous_at),
            }
            for c in convocations
        ],
        "avis_jury_professionnel": [_evaluation(e) for e in evaluations],
        "jury_national": [_dossier(session, d) for d in dossiers],
    }


def _evaluation(evaluation: Evaluation) -> dict[str, Any]:
    recours = evaluation.recours
    return {
        "session": evaluation.session_id,
        "date_session": iso(evaluation.session.day),
        "grille": {"criteres": evaluation.marks, "commentaires": evaluation.comments},
        "avis": [
            {
                "bloc": a.bloc_key,
                "favorable": a.favourable,
                "justification": a.justification,
                "preconisations": a.recommendations,
            }
            for a in evaluation.avis
        ],
        "empreinte_sha256": evaluation.content_hash,
        "signe_le": iso(evaluation.signed_at),
        "signatures": [
            {
                "membre": name(s.user),
                "qualite": s.quality,
                "signe_le": iso(s.signed_at),
                "empreinte_sha256": s.content_hash,
            }
            for s in evaluation.signatures
        ],
        "recours": None
        if recours is None
        else {
            "renonciation": recours.waived,
            "texte": recours.text,
            "depose_le": iso(recours.filed_at),
        },
    }


def _dossier(session: Session, dossier: NationalDossier) -> dict[str, Any]:
    proclamation = proclamation_of(session, dossier.session_id)
    return {
        "session": dossier.session_id,
        "date_session": iso(dossier.session.day),
        "decisions": [
            {
                "bloc": d.bloc_key,
                "valide": d.validated,
                "motif": d.reason,
                "enregistree_le": iso(d.recorded_at),
            }
            for d in dossier.decisions
        ],
        "cqp_non_delivre_motif": dossier.cqp_withheld_reason,
        "proclame_le": iso(proclamation.proclaimed_at) if proclamation else None,
    }


def certificate_json(certificate: Certificate, *, file: str | None, url: str) -> dict[str, Any]:
    return {
        "code_verification": certificate.code,
        "adresse_verification": url,
        "type": certificate.kind,
        "parcours": certificate.parcours_id,
        "certification": certificate.certification_code,
        "intitule": certificate.certification_title,
        "bloc": certificate.bloc_code,
        "intitule_bloc": certificate.bloc_title,
        "voie": certificate.route,
        "delivre_le": iso(certificate.issued_on),
        "titulaire": f"{certificate.holder_first_name} {certificate.holder_last_name}",
        "fichier": file,
        "sha256": certificate.pdf_sha256,
        "revoque_le": iso(certificate.revoked_at),
        "motif_revocation": certificate.revoked_reason,
    }


def avis_signatures(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AvisSignature, JurySession.day)
        .join(Evaluation, Evaluation.id == AvisSignature.evaluation_id)
        .join(JurySession, JurySession.id == Evaluation.session_id)
        .where(AvisSignature.user_id == user.id)
        .order_by(AvisSignature.id)
    ).all()
    return [
        {
            "evaluation": s.evaluation_id,
            "date_session": iso(day),
            "qualite": s.quality,
            "signe_le": iso(s.signed_at),
            "adresse_ip": s.ip,
            "empreinte_sha256": s.content_hash,
        }
        for s, day in rows
    ]
