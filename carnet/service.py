"""Use cases of the carnet de suivi. Write services check who may act again (defence in depth).

Errors: ``CarnetValidation`` (French messages per field), ``CarnetConflict`` (the form was
loaded before someone changed the same thing: carries the current state), ``NotAllowed`` (the
person may not see or act on the object: the web layer answers 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carnet.models import (
    Attestation,
    AttestationVersion,
    AttesterRole,
    Carnet,
    Milestone,
    MilestoneKind,
    SelfAssessment,
    SelfLevel,
    SituationKind,
    Verdict,
)
from carnet.rules import observed_keys
from carnet.signing import canonical_content, content_hash
from vae.anonymisation import is_anonymised
from vae.audit.models import AuditEntry
from vae.audit.service import Actor, record
from vae.livret import service as livret_service
from vae.parcours.models import Parcours, Route
from vae.parcours.service import HeldBlocInput, open_parcours
from vae.people.models import Organisation, Role, User
from vae.referentiel.model import Competence
from vae.referentiel.models import CertificationRecord, CompetenceRecord

MAX_TEXT = 4000
MAX_COMMENT = 2000


class NotAllowed(Exception):
    """The person may not see or act on this object."""


class CarnetValidation(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class CarnetConflict(Exception):
    def __init__(self, current: object) -> None:
        self.current = current
        super().__init__("stale form")


def enrol(
    *,
    session: Session,
    actor: Actor,
    candidate: User,
    certification: CertificationRecord,
    route: Route,
    employer: Organisation,
    tutor: User | None,
    manager: User | None,
    start_date: date,
    held_blocs: list[HeldBlocInput] | None = None,
) -> Parcours:
    """Open a parcours and hand over its carnet."""
    parcours = open_parcours(
        session=session,
        actor=actor,
        candidate=candidate,
        certification=certification,
        route=route,
        employer=employer,
        tutor=tutor,
        manager=manager,
        start_date=start_date,
        held_blocs=held_blocs,
    )
    session.add(Carnet(parcours_id=parcours.id, handed_over_on=start_date))
    if route == Route.VAE:
        livret_service.get_or_open(session, parcours)
    session.flush()
    return parcours


def attester_role(user: User, parcours: Parcours) -> AttesterRole | None:
    if parcours.tutor_id == user.id and user.has_role(Role.TUTEUR):
        return AttesterRole.TUTEUR
    if parcours.manager_id == user.id and user.has_role(Role.MANAGER):
        return AttesterRole.MANAGER
    return None


# --- pré-positionnement --------------------------------------------------------------------


def save_self_assessment(
    *,
    session: Session,
    actor: Actor,
    user: User,
    parcours: Parcours,
    competence: CompetenceRecord,
    level: str,
    comment: str,
    lock_version: int,
    now: datetime,
) -> SelfAssessment:
    if parcours.candidate_id != user.id:
        raise NotAllowed
    errors: dict[str, str] = {}
    if level not in {lv.value for lv in SelfLevel}:
        errors["level"] = "Choisissez où vous en êtes pour cette compétence."
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Le commentaire ne doit pas dépasser {MAX_COMMENT} caractères."
    if errors:
        raise CarnetValidation(errors)
    current = session.scalar(
        select(SelfAssessment).where(
            SelfAssessment.parcours_id == parcours.id,
            SelfAssessment.competence_id == competence.id,
        )
    )
    if current is None:
        if lock_version != 0:
            raise CarnetConflict(None)
        current = SelfAssessment(
            parcours_id=parcours.id,
            competence_id=competence.id,
            level=level,
            comment=comment,
            updated_at=now,
            lock_version=1,
        )
        session.add(current)
    elif (current.level, current.comment) == (level, comment):
        return current  # a repeated submission changes nothing
    elif current.lock_version != lock_version:
        raise CarnetConflict(current)
    else:
        current.level, current.comment = level, comment
        current.updated_at = now
        current.lock_version += 1
    session.flush()
    record(
        session=session,
        actor=actor,
        action="carnet.self_assessment",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"competence": competence.key, "level": level},
    )
    return current


# --- attestations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttestationInput:
    situation_date: str
    situation_kind: str
    description: str
    observed: list[str]
    verdict: str
    comment: str


def _validate(
    data: AttestationInput, competence: Competence, parcours: Parcours, today: date
) -> tuple[date, list[str]]:
    errors: dict[str, str] = {}
    day = None
    try:
        day = date.fromisoformat(data.situation_date)
    except ValueError:
        errors["situation_date"] = "Indiquez la date de la situation observée (jj/mm/aaaa)."
    else:
        if day > today:
            errors["situation_date"] = "La situation observée ne peut pas être datée dans le futur."
        elif day < parcours.start_date - timedelta(days=365):
            errors["situation_date"] = (
                "La situation observée date de plus d'un an avant le début du parcours : "
                "vérifiez la date."
            )
    if data.situation_kind not in {k.value for k in SituationKind}:
        errors["situation_kind"] = "Choisissez le type de situation observée."
    if not data.description.strip():
        errors["description"] = "Décrivez brièvement la situation observée."
    elif len(data.description) > MAX_TEXT:
        errors["description"] = f"La description ne doit pas dépasser {MAX_TEXT} caractères."
    if data.verdict not in {v.value for v in Verdict}:
        errors["verdict"] = "Choisissez votre appréciation : maîtrisée, en cours ou non observée."
    if len(data.comment) > MAX_COMMENT:
        errors["comment"] = f"Le commentaire ne doit pas dépasser {MAX_COMMENT} caractères."
    unknown = set(data.observed) - set(competence.criterion_keys)
    if unknown:
        errors["observed"] = "Un critère coché n'appartient pas à cette compétence."
    if errors or day is None:
        raise CarnetValidation(errors)
    return day, observed_keys(competence, data.observed)


def _same_content(
    version: AttestationVersion, day: date, observed: list[str], data: AttestationInput
) -> bool:
    return (
        version.situation_date == day
        and version.situation_kind == data.situation_kind
        and version.description == data.description
        and sorted(version.observed_criteria) == sorted(observed)
        and version.verdict == data.verdict
        and version.comment == data.comment
    )


def save_draft(
    *,
    session: Session,
    actor: Actor,
    user: User,
    parcours: Parcours,
    competence_row: CompetenceRecord,
    competence: Competence,
    data: AttestationInput,
    base_number: int,
    lock_version: int,
    now: datetime,
) -> AttestationVersion:
    """Create or update the unsigned version the attester is about to sign.

    ``base_number`` / ``lock_version`` are what the form was loaded with: a form loaded before
    someone else's change is refused with the current version (nothing is overwritten). A repeated
    identical submission returns the existing draft instead of creating another one.
    """
    role = attester_role(user, parcours)
    if role is None:
        raise NotAllowed
    day, observed = _validate(data, competence, parcours, now.date())
    attestation = session.scalar(
        select(Attestation).where(
            Attestation.parcours_id == parcours.id,
            Attestation.competence_id == competence_row.id,
            Attestation.role == role.value,
        )
    )
    if attestation is None:
        attestation = Attestation(
            parcours_id=parcours.id,
            competence_id=competence_row.id,
            role=role.value,
            created_at=now,
        )
        session.add(attestation)
        try:
            session.flush()
        except IntegrityError:
            raise CarnetConflict(None) from None
    latest = attestation.versions[-1] if attestation.versions else None
    if latest is not None and _same_content(latest, day, observed, data) and not latest.signed:
        return latest
    if latest is not None and not latest.signed:
        if latest.number != base_number or latest.lock_version != lock_version:
            raise CarnetConflict(latest)
        version = latest
        version.lock_version += 1
    else:
        expected = latest.number if latest is not None else 0
        if base_number != expected:
            raise CarnetConflict(latest)
        version = AttestationVersion(
            attestation=attestation,
            number=expected + 1,
            attester_id=user.id,
            created_at=now,
            lock_version=1,
        )
        session.add(version)
    version.situation_date = day
    version.situation_kind = data.situation_kind
    version.description = data.description
    version.observed_criteria = observed
    version.verdict = data.verdict
    version.comment = data.comment
    version.updated_at = now
    version.attester_id = user.id
    session.flush()
    record(
        session=session,
        actor=actor,
        action="carnet.attestation_draft",
        object_type="attestation",
        object_id=attestation.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"competence": competence.key, "role": role.value, "version": version.number},
    )
    return version


def version_hash(version: AttestationVersion, parcours_id: int, competence_key: str) -> str:
    return content_digest(version, version.attestation.role, parcours_id, competence_key)


def content_digest(
    version: AttestationVersion, role: str, parcours_id: int, competence_key: str
) -> str:
    """``version_hash`` with the attestation's role already at hand (no lazy load of
    ``version.attestation``)."""
    return content_hash(
        canonical_content(
            parcours_id=parcours_id,
            competence_key=competence_key,
            role=role,
            number=version.number,
            attester_id=version.attester_id,
            situation_date=version.situation_date.isoformat(),
            situation_kind=version.situation_kind,
            description=version.description,
            observed_criteria=list(version.observed_criteria),
            verdict=version.verdict,
            comment=version.comment,
        )
    )


def sign(
    *,
    session: Session,
    actor: Actor,
    user: User,
    parcours: Parcours,
    version: AttestationVersion,
    competence_key: str,
    confirmed_hash: str,
    now: datetime,
) -> AttestationVersion:
    """Sign the draft the attester confirmed. ``confirmed_hash`` is the hash shown on the
    confirmation step: if the draft changed since, signing is refused (conflict)."""
    role = attester_role(user, parcours)
    if (
        role is None
        or version.attestation.role != role.value
        or version.attestation.parcours_id != parcours.id
    ):
        raise NotAllowed
    if version.signed:
        if version.content_hash == confirmed_hash and version.signer_id == user.id:
            return version  # double submission of the same signature
        raise CarnetConflict(version)
    digest = version_hash(version, parcours.id, competence_key)
    if digest != confirmed_hash:
        raise CarnetConflict(version)
    version.signed_at = now
    version.signer_id = user.id
    version.signer_role = role.value
    version.signer_ip = actor.ip[:45]
    version.content_hash = digest
    entry = record(
        session=session,
        actor=actor,
        action="carnet.attestation_sign",
        object_type="attestation_version",
        object_id=version.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={
            "competence": competence_key,
            "role": role.value,
            "version": version.number,
            "content_hash": digest,
        },
    )
    version.audit_seq = entry.seq
    session.flush()
    return version


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    valid: bool
    message: str
    anonymised: bool = False  # the retention period replaced the text: nothing left to check


def check_signature(
    session: Session, version: AttestationVersion, parcours_id: int, competence_key: str
) -> SignatureCheck:
    """Does the stored content still match what was signed (the version's hash and the audit
    entry written at signing)?"""
    entry = None
    if version.audit_seq is not None:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.seq == version.audit_seq))
    return signature_check(version, parcours_id, competence_key, entry)


def signature_check(
    version: AttestationVersion, parcours_id: int, competence_key: str, entry: AuditEntry | None
) -> SignatureCheck:
    """``check_signature`` with the signature's audit entry already at hand."""
    if version.signed_at is None or version.content_hash is None:
        return SignatureCheck(False, "Non signée")
    audit = None if entry is None else (entry.details.get("content_hash"), entry.actor_id)
    return verify_signature(version, version.attestation.role, parcours_id, competence_key, audit)


def verify_signature(
    version: AttestationVersion,
    role: str,
    parcours_id: int,
    competence_key: str,
    audit: tuple[object, int | None] | None,
) -> SignatureCheck:
    """``signature_check`` from what a reader loaded in its own queries: the attestation's role
    and, from the signature's audit entry (``None`` when there is none), the content hash it
    recorded (``details["content_hash"]``) and its actor."""
    if version.signed_at is None or version.content_hash is None:
        return SignatureCheck(False, "Non signée")
    if is_anonymised(version.description):
        return SignatureCheck(
            False,
            "Contenu anonymisé au terme de la durée de conservation : "
            "la signature ne peut plus être contrôlée.",
            anonymised=True,
        )
    digest = content_digest(version, role, parcours_id, competence_key)
    audited = audit[0] if audit is not None else None
    if digest != version.content_hash or audited != version.content_hash:
        return SignatureCheck(
            False, "Signature rompue : le contenu ne correspond plus à ce qui a été signé."
        )
    if audit is not None and audit[1] != version.signer_id:
        return SignatureCheck(False, "Signature rompue : le signataire ne correspond pas.")
    return SignatureCheck(True, "Signature valide : le contenu est celui qui a été signé.")


# --- milestones ----------------------------------------------------------------------------


def can_record_milestone(user: User, parcours: Parcours) -> bool:
    return (
        user.has_role(Role.ADMIN)
        or (user.has_role(Role.REFERENT) and user.organisation_id == parcours.employer_id)
        or attester_role(user, parcours) is not None
    )


MILESTONE_ORDER = [k.value for k in MilestoneKind]


def _milestone_date_problems(
    session: Session, parcours: Parcours, kind: str, day: date
) -> dict[str, str]:
    if day < parcours.start_date - timedelta(days=90):
        return {"day": "Cette date précède de beaucoup le début du parcours : vérifiez-la."}
    if day > parcours.start_date + timedelta(days=3 * 365):
        return {"day": "Cette date est trop éloignée du début du parcours : vérifiez-la."}
    if kind not in MILESTONE_ORDER:
        return {}
    others = session.scalars(
        select(Milestone).where(Milestone.parcours_id == parcours.id, Milestone.kind != kind)
    )
    rank = MILESTONE_ORDER.index(kind)
    for other in others:
        other_rank = MILESTONE_ORDER.index(other.kind)
        if (other_rank < rank and other.day > day) or (other_rank > rank and other.day < day):
            return {"day": "Les étapes se suivent : positionnement, mi-parcours, bilan final."}
    return {}


def save_milestone(
    *,
    session: Session,
    actor: Actor,
    user: User,
    parcours: Parcours,
    kind: str,
    day: str,
    participant_ids: list[int],
    other_participants: str,
    notes: str,
    lock_version: int,
    now: datetime,
) -> Milestone:
    if not can_record_milestone(user, parcours):
        raise NotAllowed
    errors: dict[str, str] = {}
    if kind not in {k.value for k in MilestoneKind}:
        errors["kind"] = "Étape inconnue."
    parsed = None
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        errors["day"] = "Indiquez la date de l'étape (jj/mm/aaaa)."
    if parsed is not None:
        errors.update(_milestone_date_problems(session, parcours, kind, parsed))
    allowed = {
        pid for pid in (parcours.candidate_id, parcours.tutor_id, parcours.manager_id) if pid
    }
    if not set(participant_ids) <= allowed:
        errors["participants"] = "Un participant coché ne fait pas partie du parcours."
    if not participant_ids and not other_participants.strip():
        errors["participants"] = "Indiquez qui a pris part à l'étape."
    if len(notes) > MAX_TEXT or len(other_participants) > 500:
        errors["notes"] = "Le texte est trop long."
    if errors or parsed is None:
        raise CarnetValidation(errors)
    milestone = session.scalar(
        select(Milestone).where(Milestone.parcours_id == parcours.id, Milestone.kind == kind)
    )
    if milestone is None:
        if lock_version != 0:
            raise CarnetConflict(None)
        milestone = Milestone(parcours_id=parcours.id, kind=kind, lock_version=1, created_at=now)
        session.add(milestone)
    elif milestone.lock_version != lock_version:
        raise CarnetConflict(milestone)
    else:
        milestone.lock_version += 1
    milestone.day = parsed
    milestone.participant_ids = sorted(set(participant_ids))
    milestone.other_participants = other_participants.strip()
    milestone.notes = notes.strip()
    milestone.recorded_by_id = user.id
    session.flush()
    record(
        session=session,
        actor=actor,
        action="carnet.milestone",
        object_type="parcours",
        object_id=parcours.id,
        subject_id=parcours.candidate_id,
        now=now,
        details={"kind": kind, "day": day},
    )
    return milestone
