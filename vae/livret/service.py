"""Use cases of the livret 2. Only the candidate writes; every write re-checks it.

Errors: ``LivretValidation`` (French messages per field), ``LivretConflict`` (a stale tab:
carries the current situation and what was submitted), ``NotAllowed`` (→ 404), ``Frozen``
(the livret is submitted: read-only).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.livret.models import Livret, LivretStatus, LivretSubmission, Situation
from vae.livret.rules import (
    MAX_RUBRIC,
    MAX_SHORT,
    REQUIRED_FOR_SUBMISSION,
    RUBRICS,
    SituationFacts,
    submission_problems,
)
from vae.parcours.models import Parcours, Route
from vae.people.models import Role, User
from vae.referentiel.model import Certification


class NotAllowed(Exception):
    pass


class Frozen(Exception):
    """The livret is submitted: nothing changes until it is returned for correction."""


class LivretValidation(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class LivretConflict(Exception):
    def __init__(self, current: Situation | Livret, submitted: dict[str, Any]) -> None:
        self.current = current
        self.submitted = submitted
        super().__init__("stale form")


def get_or_open(session: Session, parcours: Parcours) -> Livret:
    """The livret of a VAE parcours (opened on first use)."""
    if parcours.route != Route.VAE.value:
        raise NotAllowed
    livret = session.scalar(select(Livret).where(Livret.parcours_id == parcours.id))
    if livret is None:
        livret = Livret(parcours_id=parcours.id, career=[], trainings=[])
        session.add(livret)
        session.flush()
    return livret


def _writer_check(user: User, livret: Livret) -> None:
    if livret.parcours.candidate_id != user.id or not user.has_role(Role.CANDIDAT):
        raise NotAllowed
    if not livret.editable:
        raise Frozen


# --- situations ----------------------------------------------------------------------------


SITUATION_FIELDS = ("title", "period_from", "period_to", "organisme_service", *RUBRICS)


@dataclass
class SituationInput:
    title: str = ""
    period_from: str = ""
    period_to: str = ""
    organisme_service: str = ""
    context: str = ""
    actions: str = ""
    means: str = ""
    collaborators: str = ""
    result: str = ""
    learnings: str = ""
    competence_keys: list[str] = field(default_factory=list)
    criterion_keys: list[str] = field(default_factory=list)


def add_situation(
    *,
    session: Session,
    actor: Actor,
    user: User,
    livret: Livret,
    certification: Certification,
    bloc_key: str,
    now: datetime,
    max_situations: int = 2,
) -> Situation:
    _writer_check(user, livret)
    if bloc_key not in certification.bloc_keys or bloc_key in livret.parcours.held_bloc_keys:
        raise NotAllowed
    count = sum(1 for s in livret.situations if s.bloc_key == bloc_key)
    if count >= max_situations:
        raise LivretValidation(
            {
                "bloc": f"Le bloc {bloc_key} compte déjà {max_situations} situations : "
                "c'est le maximum."
            }
        )
    situation = Situation(
        livret=livret,
        bloc_key=bloc_key,
        competence_keys=[],
        criterion_keys=[],
        created_at=now,
        updated_at=now,
        lock_version=1,
    )
    session.add(situation)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="livret.situation_add",
        object_type="situation",
        object_id=situation.id,
        subject_id=user.id,
        now=now,
        details={"bloc": bloc_key},
    )
    return situation


def _parse_date(value: str, field_name: str, errors: dict[str, str], today: date) -> date | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors[field_name] = "Saisissez une date valide (jj/mm/aaaa)."
        return None
    if parsed > today:
        errors[field_name] = "Cette date est dans le futur."
    return parsed


def _validate(
    data: SituationInput, certification: Certification, bloc_key: str, today: date
) -> tuple[date | None, date | None]:
    errors: dict[str, str] = {}
    for name in ("title", "organisme_service"):
        if len(getattr(data, name)) > MAX_SHORT:
            errors[name] = f"Ce champ ne doit pas dépasser {MAX_SHORT} caractères."
    for name in RUBRICS:
        if len(getattr(data, name)) > MAX_RUBRIC:
            errors[name] = (
                f"Ce texte dépasse {MAX_RUBRIC:,} caractères".replace(",", " ")
                + " : resserrez-le (une situation tient en trois pages environ)."
            )
    start = _parse_date(data.period_from, "period_from", errors, today)
    end = _parse_date(data.period_to, "period_to", errors, today)
    if start and end and end < start:
        errors["period_to"] = "La fin de la période précède son début."
    bloc = certification.bloc(bloc_key).bloc
    known = {c.key: set(c.criterion_keys) for c in bloc.competences}
    if not set(data.competence_keys) <= set(known):
        errors["competence_keys"] = "Une compétence cochée n'appartient pas à ce bloc."
    allowed_criteria = set().union(*(known.get(k, set()) for k in data.competence_keys))
    if not set(data.criterion_keys) <= allowed_criteria:
        errors["criterion_keys"] = "Un critère coché n'appartient pas aux compétences choisies."
    if errors:
        raise LivretValidation(errors)
    return start, end


def _content(situation: Situation) -> dict[str, Any]:
    return {
        "title": situation.title,
        "period_from": situation.period_from.isoformat() if situation.period_from else "",
        "period_to": situation.period_to.isoformat() if situation.period_to else "",
        "organisme_service": situation.organisme_service,
        **{name: getattr(situation, name) for name in RUBRICS},
        "competence_keys": sorted(situation.competence_keys),
        "criterion_keys": sorted(situation.criterion_keys),
    }


def _submitted(data: SituationInput) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in SITUATION_FIELDS}
    values["competence_keys"] = sorted(data.competence_keys)
    values["criterion_keys"] = sorted(data.criterion_keys)
    return values


def save_situation(
    *,
    session: Session,
    actor: Actor,
    user: User,
    situation: Situation,
    certification: Certification,
    data: SituationInput,
    lock_version: int,
    now: datetime,
    autosave: bool = False,
) -> Situation:
    """Save a situation as typed. A save from a stale tab raises ``LivretConflict``; the same
    content posted twice is a no-op. Texts are stored exactly as typed (escaped on output)."""
    _writer_check(user, situation.livret)
    start, end = _validate(data, certification, situation.bloc_key, now.date())
    submitted = _submitted(data)
    if _content(situation) == submitted:
        return situation
    if situation.lock_version != lock_version:
        raise LivretConflict(situation, submitted)
    for name in ("title", "organisme_service", *RUBRICS):
        setattr(situation, name, getattr(data, name))
    situation.period_from, situation.period_to = start, end
    order = [c.key for c in certification.bloc(situation.bloc_key).bloc.competences]
    situation.competence_keys = [k for k in order if k in data.competence_keys]
    situation.criterion_keys = sorted(set(data.criterion_keys))
    situation.lock_version += 1
    situation.updated_at = now
    session.flush()
    if not autosave:
        record(
            session=session,
            actor=actor,
            action="livret.situation_save",
            object_type="situation",
            object_id=situation.id,
            subject_id=user.id,
            now=now,
            details={"lock_version": situation.lock_version},
        )
    return situation


def delete_situation(
    *, session: Session, actor: Actor, user: User, situation: Situation, now: datetime
) -> list[str]:
    """Delete a draft situation; returns the stored names of its annexes (files to remove)."""
    _writer_check(user, situation.livret)
    stored = [a.stored_name for a in situation.annexes]
    for annex in situation.annexes:
        session.delete(annex)
    session.delete(situation)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="livret.situation_delete",
        object_type="situation",
        object_id=situation.id,
        subject_id=user.id,
        now=now,
    )
    return stored


# --- candidate and career data -------------------------------------------------------------


def save_profile(
    *,
    session: Session,
    actor: Actor,
    user: User,
    livret: Livret,
    current_job: str,
    current_service: str,
    career: list[dict[str, str]],
    trainings: list[dict[str, str]],
    lock_version: int,
    now: datetime,
) -> Livret:
    _writer_check(user, livret)
    errors: dict[str, str] = {}
    for name, value in (("current_job", current_job), ("current_service", current_service)):
        if len(value) > MAX_SHORT:
            errors[name] = f"Ce champ ne doit pas dépasser {MAX_SHORT} caractères."
    clean_career = []
    for i, job in enumerate(career):
        if not any(job.values()):
            continue
        for key in ("job", "employer"):
            if len(job.get(key, "")) > MAX_SHORT:
                errors[f"career-{i}-{key}"] = f"{MAX_SHORT} caractères au plus."
        if not job.get("job"):
            errors[f"career-{i}-job"] = "Indiquez l'emploi."
        start = _parse_date(job.get("from", ""), f"career-{i}-from", errors, now.date())
        end = _parse_date(job.get("to", ""), f"career-{i}-to", errors, now.date())
        if start and end and end < start:
            errors[f"career-{i}-to"] = "La fin précède le début."
        clean_career.append({k: job.get(k, "") for k in ("job", "employer", "from", "to")})
    clean_trainings = []
    for i, training in enumerate(trainings):
        if not any(training.values()):
            continue
        for key in ("title", "body"):
            if len(training.get(key, "")) > MAX_SHORT:
                errors[f"training-{i}-{key}"] = f"{MAX_SHORT} caractères au plus."
        if not training.get("title"):
            errors[f"training-{i}-title"] = "Indiquez l'intitulé."
        _parse_date(training.get("date", ""), f"training-{i}-date", errors, now.date())
        clean_trainings.append({k: training.get(k, "") for k in ("title", "body", "date")})
    if errors:
        raise LivretValidation(errors)
    submitted = {
        "current_job": current_job,
        "current_service": current_service,
        "career": clean_career,
        "trainings": clean_trainings,
    }
    current = {
        "current_job": livret.current_job,
        "current_service": livret.current_service,
        "career": livret.career,
        "trainings": livret.trainings,
    }
    if current == submitted:
        return livret
    if livret.profile_lock != lock_version:
        raise LivretConflict(livret, submitted)
    livret.current_job, livret.current_service = current_job, current_service
    livret.career, livret.trainings = clean_career, clean_trainings
    livret.profile_lock += 1
    livret.profile_saved_at = now
    session.flush()
    return livret


# --- submission ----------------------------------------------------------------------------


def facts(situation: Situation) -> SituationFacts:
    content = _content(situation)
    return SituationFacts(
        id=situation.id,
        bloc_key=situation.bloc_key,
        title=situation.title,
        competence_keys=tuple(situation.competence_keys),
        missing=tuple(
            label
            for name, label in REQUIRED_FOR_SUBMISSION.items()
            if not str(content[name]).strip()
        ),
    )


def problems(livret: Livret, certification: Certification) -> list[str]:
    return submission_problems(
        certification,
        [facts(s) for s in livret.situations],
        held_blocs=livret.parcours.held_bloc_keys,
        profile_complete=bool(livret.current_job.strip() and livret.career),
    )


def snapshot(livret: Livret) -> dict[str, Any]:
    return {
        "parcours": livret.parcours_id,
        "edition": livret.edition,
        "profile": {
            "current_job": livret.current_job,
            "current_service": livret.current_service,
            "career": livret.career,
            "trainings": livret.trainings,
        },
        "situations": [
            {
                "id": s.id,
                "bloc": s.bloc_key,
                **_content(s),
                "annexes": [
                    {
                        "name": a.original_name,
                        "sha256": a.sha256,
                        "pages": a.pages,
                        "size": a.size,
                        "stored": a.stored_name,
                    }
                    for a in s.annexes
                ],
            }
            for s in livret.situations
        ],
    }


SWORN_STATEMENT = (
    "Je déclare sur l'honneur que les informations de ce livret sont exactes et que les "
    "situations décrites sont celles que j'ai vécues."
)


def snapshot_hash(content: dict[str, Any]) -> str:
    """SHA-256 of a snapshot's canonical JSON: what the sworn statement signs."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit(
    *,
    session: Session,
    actor: Actor,
    user: User,
    livret: Livret,
    certification: Certification,
    sworn: bool,
    now: datetime,
) -> LivretSubmission:
    """Sign the déclaration sur l'honneur and freeze this edition."""
    _writer_check(user, livret)
    found = problems(livret, certification)
    if not sworn:
        found.insert(0, "Cochez la déclaration sur l'honneur pour signer et soumettre.")
    if found:
        raise LivretValidation({"submit": " ".join(found)})
    content = snapshot(livret)
    digest = snapshot_hash(content)
    submission = LivretSubmission(
        livret=livret,
        edition=livret.edition,
        snapshot=content,
        content_hash=digest,
        submitted_at=now,
        signer_id=user.id,
        signer_ip=actor.ip[:45],
    )
    session.add(submission)
    livret.status = LivretStatus.SUBMITTED.value
    entry = record(
        session=session,
        actor=actor,
        action="livret.submit",
        object_type="livret",
        object_id=livret.id,
        subject_id=user.id,
        now=now,
        details={"edition": livret.edition, "content_hash": digest, "sworn_statement": True},
    )
    submission.audit_seq = entry.seq
    session.flush()
    return submission


def return_for_correction(
    *,
    session: Session,
    actor: Actor,
    user: User,
    livret: Livret,
    reason: str,
    now: datetime,
) -> Livret:
    if not user.has_role(Role.ADMIN):
        raise NotAllowed
    if livret.status != LivretStatus.SUBMITTED.value:
        raise LivretValidation({"reason": "Ce livret n'est pas soumis."})
    if not reason.strip():
        raise LivretValidation({"reason": "Indiquez au candidat ce qu'il doit corriger."})
    if len(reason) > 4000:
        raise LivretValidation({"reason": "Le motif ne doit pas dépasser 4 000 caractères."})
    submission = livret.submissions[-1]
    submission.returned_at = now
    submission.returned_by_id = user.id
    submission.return_reason = reason.strip()
    livret.status = LivretStatus.DRAFT.value
    livret.edition += 1
    record(
        session=session,
        actor=actor,
        action="livret.return",
        object_type="livret",
        object_id=livret.id,
        subject_id=livret.parcours.candidate_id,
        now=now,
        details={"edition": submission.edition},
    )
    session.flush()
    return livret
