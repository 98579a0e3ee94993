"""The signed-in person's data as JSON-ready dicts, for the RGPD export (``portal.export_zip``;
decisions and certificates in ``portal.export_decisions``).

Only what is about the person: their account, the parcours of which they are the candidate
(with its carnet, livret, decisions and certificates), the attestations and avis they wrote on
other people's parcours (without those people's texts beyond what they wrote themselves), and
the audit entries where they are the actor or the subject. Other people's IP addresses are
never included; names of the people who took part (tutor, jury members) are, as on the pages
the candidate already sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carnet.models import Attestation, AttestationVersion, Carnet, Milestone, SelfAssessment
from carnet.queries import CarnetData
from vae.audit.models import AuditEntry
from vae.decision.models import Prerequisite
from vae.livret.models import Livret
from vae.parcours.models import Parcours
from vae.people.models import User
from vae.referentiel.models import CompetenceRecord

JOURNAL_BATCH = 500


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def name(user: User | None) -> str | None:
    return f"{user.civility} {user.full_name}" if user is not None else None


def profile(user: User, *, generated_at: datetime) -> dict[str, Any]:
    organisation = user.organisation
    return {
        "export_genere_le": iso(generated_at),
        "id": user.id,
        "civilite": user.civility,
        "prenom": user.first_name,
        "nom": user.last_name,
        "courriel": user.email,
        "fonction": user.job_title,
        "organisation": {
            "nom": organisation.name,
            "type": organisation.type,
            "branche": organisation.branche,
            "ville": organisation.city,
        },
        "manager": name(user.manager),
        "roles": sorted(r.value for r in user.roles),
        "actif": user.is_active,
        "formation_jury_suivie_le": iso(user.jury_training_date),
        "compte_cree_le": iso(user.created_at),
        "mot_de_passe_change_le": iso(user.password_changed_at),
    }


def own_parcours(session: Session, user: User) -> list[Parcours]:
    return list(
        session.scalars(
            select(Parcours).where(Parcours.candidate_id == user.id).order_by(Parcours.id)
        )
    )


def parcours_json(session: Session, parcours: Parcours) -> dict[str, Any]:
    certification = parcours.certification
    prerequisites = session.scalars(
        select(Prerequisite).where(Prerequisite.parcours_id == parcours.id)
    )
    return {
        "id": parcours.id,
        "certification": {
            "code": certification.code,
            "intitule_court": certification.short,
            "intitule": certification.title,
        },
        "voie": parcours.route,
        "employeur": parcours.employer.name,
        "tuteur": name(parcours.tutor),
        "manager": name(parcours.manager),
        "formateurs": [name(t) for t in parcours.trainers],
        "debut": iso(parcours.start_date),
        "fin": iso(parcours.end_date),
        "statut": parcours.status,
        "ouvert_le": iso(parcours.created_at),
        "blocs_deja_detenus": [
            {"bloc": h.bloc_key, "origine": h.origin, "obtenu_le": iso(h.obtained_on)}
            for h in parcours.held_blocs
        ],
        "prerequis": [
            {"cle": p.key, "realise_le": iso(p.completed_on), "enregistre_le": iso(p.recorded_at)}
            for p in prerequisites
        ],
    }


def has_carnet(session: Session, parcours: Parcours) -> bool:
    for model in (Carnet, SelfAssessment, Attestation, Milestone):
        if session.scalar(select(model.id).where(model.parcours_id == parcours.id).limit(1)):
            return True
    return False


def version_json(version: AttestationVersion) -> dict[str, Any]:
    return {
        "version": version.number,
        "redigee_par": name(version.attester),
        "date_situation": iso(version.situation_date),
        "type_situation": version.situation_kind,
        "description": version.description,
        "criteres_observes": sorted(version.observed_criteria),
        "appreciation": version.verdict,
        "commentaire": version.comment,
        "creee_le": iso(version.created_at),
        "modifiee_le": iso(version.updated_at),
        "signee_le": iso(version.signed_at),
        "signataire": name(version.signer),
        "qualite_signataire": version.signer_role,
        "empreinte_sha256": version.content_hash,
    }


def carnet_json(data: CarnetData) -> dict[str, Any]:
    people = data.people
    return {
        "remis_le": iso(data.carnet.handed_over_on) if data.carnet else None,
        "pre_positionnement": [
            {
                "competence": key,
                "niveau": a.level,
                "commentaire": a.comment,
                "mis_a_jour_le": iso(a.updated_at),
            }
            for key, a in sorted(data.self_assessments.items())
        ],
        "attestations": [
            {
                "competence": key,
                "role": role,
                "versions": [
                    version_json(v)
                    | {
                        "controle_signature": data.checks[v.id].message
                        if v.id in data.checks
                        else None
                    }
                    for v in attestation.versions
                ],
            }
            for (key, role), attestation in sorted(data.attestations.items())
        ],
        "jalons": [
            {
                "etape": m.kind,
                "date": iso(m.day),
                "participants": [name(people.get(pid)) or f"#{pid}" for pid in m.participant_ids],
                "autres_participants": m.other_participants,
                "notes": m.notes,
            }
            for _, m in sorted(data.milestones.items())
        ],
    }


def livret_json(livret: Livret, annex_names: dict[str, str]) -> dict[str, Any]:
    """``annex_names``: stored name → the file's path in the archive."""
    return {
        "statut": livret.status,
        "edition": livret.edition,
        "profil": {
            "emploi_actuel": livret.current_job,
            "service_actuel": livret.current_service,
            "parcours_professionnel": livret.career,
            "formations": livret.trainings,
            "enregistre_le": iso(livret.profile_saved_at),
        },
        "situations": [
            {
                "id": s.id,
                "bloc": s.bloc_key,
                "titre": s.title,
                "du": iso(s.period_from),
                "au": iso(s.period_to),
                "organisme_service": s.organisme_service,
                "contexte": s.context,
                "actions": s.actions,
                "moyens": s.means,
                "collaborateurs": s.collaborators,
                "resultat": s.result,
                "enseignements": s.learnings,
                "competences": s.competence_keys,
                "criteres": s.criterion_keys,
                "annexes": [
                    {
                        "nom": a.original_name,
                        "fichier": annex_names.get(a.stored_name),
                        "pages": a.pages,
                        "taille": a.size,
                        "sha256": a.sha256,
                        "deposee_le": iso(a.uploaded_at),
                    }
                    for a in s.annexes
                ],
            }
            for s in livret.situations
        ],
        "soumissions": [
            {
                "edition": sub.edition,
                "soumise_le": iso(sub.submitted_at),
                "empreinte_sha256": sub.content_hash,
                "adresse_ip": sub.signer_ip,
                "renvoyee_le": iso(sub.returned_at),
                "motif_du_renvoi": sub.return_reason,
                "contenu": sub.snapshot,
            }
            for sub in livret.submissions
        ],
    }


def written_attestations(session: Session, user: User) -> list[dict[str, Any]]:
    """Attestation versions the person wrote or signed on someone else's parcours."""
    rows = session.execute(
        select(AttestationVersion, Attestation, CompetenceRecord.key)
        .join(Attestation, Attestation.id == AttestationVersion.attestation_id)
        .join(CompetenceRecord, CompetenceRecord.id == Attestation.competence_id)
        .join(Parcours, Parcours.id == Attestation.parcours_id)
        .where(
            or_(AttestationVersion.attester_id == user.id, AttestationVersion.signer_id == user.id),
            Parcours.candidate_id != user.id,
        )
        .order_by(Attestation.parcours_id, Attestation.id, AttestationVersion.number)
    ).all()
    return [
        {
            "parcours": attestation.parcours_id,
            "competence": competence,
            "role": attestation.role,
            **version_json(version),
            "adresse_ip_signature": version.signer_ip if version.signer_id == user.id else None,
        }
        for version, attestation, competence in rows
    ]


def journal(session: Session, user: User) -> Iterator[dict[str, Any]]:
    """Audit entries where the person acts or is the subject, in order, read in batches."""
    last = 0
    while True:
        batch = session.scalars(
            select(AuditEntry)
            .where(
                or_(AuditEntry.subject_id == user.id, AuditEntry.actor_id == user.id),
                AuditEntry.seq > last,
            )
            .order_by(AuditEntry.seq)
            .limit(JOURNAL_BATCH)
        ).all()
        if not batch:
            return
        for entry in batch:
            mine = entry.actor_id == user.id
            yield {
                "numero": entry.seq,
                "date": iso(entry.at),
                "action": entry.action,
                "objet": f"{entry.object_type} {entry.object_id}".strip(),
                "auteur": "vous" if mine else entry.actor_label,
                "adresse_ip": entry.ip if mine else None,
                "resultat": entry.outcome,
                "details": entry.details,
            }
            last = entry.seq
            session.expunge(entry)  # bounded memory: the identity map does not keep them
