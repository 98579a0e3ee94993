"""Use cases of the jury professionnel's evaluation: fill the grid and the avis, sign them
(the candidate's recours is in ``vae.decision.recours``). Write services check who may act
again (defence in depth).

Errors: ``GridInvalid`` (French messages per field: 400), ``GridRejected`` (a grid that names
criteria or blocs it may not: 400), ``GridConflict`` (stale form: 409, carries the current
state), ``Frozen`` (signed: nothing may change), ``TooEarly`` (before the day of the interview),
``SignatureRefused`` (what is missing, per bloc; ``NotASigner`` for a member who does not sit
for this candidate), ``NotAllowed`` (the web layer answers 404). The administrator's reopening
of a frozen avis is in ``vae.decision.reopen``.

The held blocs (not evaluated) are the evaluation's snapshot once it exists
(``Evaluation.held``), ``vae.decision.held.current_held_blocs`` before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from vae.audit.service import Actor, record
from vae.decision import rules
from vae.decision.held import current_held_blocs
from vae.decision.models import AvisSignature, BlocAvis, Evaluation
from vae.decision.signing import (
    BROKEN_MESSAGE,
    evaluation_hash,
    required_signer_ids,
    signature_state,
)
from vae.jury.models import Convocation, JuryMember, JurySession
from vae.jury.rules import MONTHS_FR
from vae.parcours.models import Parcours
from vae.people.models import Role, User
from vae.referentiel.model import Certification
from vae.referentiel.service import get_referentiel
from vae.rules import CertificationResult

MAX_COMMENT = 4000
PARIS = ZoneInfo("Europe/Paris")
NOT_A_SIGNER = "Vous ne siégez pas pour ce candidat : votre signature n'est pas requise."


class NotAllowed(Exception):
    """The person may not see or act on this evaluation."""


class GridInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class GridRejected(ValueError):
    """The form names criteria or blocs that are not evaluated here (message in French)."""


class GridConflict(Exception):
    def __init__(self, current: Evaluation | None) -> None:
        self.current = current
        super().__init__("stale form")


class Frozen(Exception):
    """The avis is signed: its content can no longer change (message in French)."""


class TooEarly(Exception):
    """Before the day of the interview: the grid is not open yet (message in French)."""


class SignatureRefused(Exception):
    def __init__(self, message: str, problems: dict[str, list[str]] | None = None) -> None:
        self.message = message
        self.problems = problems or {}
        super().__init__(message)


class NotASigner(SignatureRefused):
    """A member of the session who does not sit for this candidate (another branche)."""


@dataclass(frozen=True, slots=True)
class AvisInput:
    favourable: bool | None = None
    justification: str = ""
    recommendations: str = ""


@dataclass(frozen=True, slots=True)
class GridInput:
    marks: dict[str, bool] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    avis: dict[str, AvisInput] = field(default_factory=dict)


# --- access and loading --------------------------------------------------------------------


def membership(session: Session, user: User, convocation: Convocation) -> JuryMember | None:
    """The user's seat on the convocation's session, if they may evaluate this candidate: a
    jury professionnel member, never of the candidate's own organisme."""
    if not user.has_role(Role.JURY_PRO) or not user.is_active:
        return None
    if convocation.parcours.employer_id == user.organisation_id:
        return None
    return session.scalar(
        select(JuryMember).where(
            JuryMember.session_id == convocation.session_id, JuryMember.user_id == user.id
        )
    )


def certification_of(
    session: Session, evaluation_or_convocation: Evaluation | Convocation
) -> Certification:
    parcours = evaluation_or_convocation.parcours
    referentiel = get_referentiel(session, parcours.certification.version_id)
    assert referentiel is not None
    return referentiel.certification(parcours.certification.code)


def _with_details(query: Select[Evaluation]) -> Select[Evaluation]:
    return query.options(
        selectinload(Evaluation.avis),
        selectinload(Evaluation.signatures).selectinload(AvisSignature.user),
        selectinload(Evaluation.recours),
    )


def find(session: Session, convocation_id: int) -> Evaluation | None:
    return session.scalar(
        _with_details(select(Evaluation).where(Evaluation.convocation_id == convocation_id))
    )


def load(session: Session, evaluation_id: int) -> Evaluation | None:
    """An evaluation with its avis, signatures and recours (for the national jury too)."""
    return session.scalar(_with_details(select(Evaluation).where(Evaluation.id == evaluation_id)))


def load_for_parcours(session: Session, parcours_id: int) -> Evaluation | None:
    """The parcours's latest signed evaluation, else its latest one (None when none exists)."""
    return session.scalar(
        _with_details(
            select(Evaluation)
            .where(Evaluation.parcours_id == parcours_id)
            .order_by(
                Evaluation.signed_at.is_(None), Evaluation.signed_at.desc(), Evaluation.id.desc()
            )
            .limit(1)
        )
    )


def held_blocs(
    session: Session, parcours: Parcours, evaluation: Evaluation | None
) -> frozenset[str]:
    """The blocs not evaluated: the evaluation's snapshot, or what is held now before it opens."""
    return evaluation.held if evaluation is not None else current_held_blocs(session, parcours)


def required_signers_of(evaluation: Evaluation) -> frozenset[int]:
    return required_signer_ids(evaluation.session, evaluation.parcours)


def signed_count(evaluation: Evaluation, required: frozenset[int]) -> int:
    return sum(1 for s in evaluation.signatures if s.user_id in required)


def session_states(session: Session, jury_session: JurySession) -> dict[int, str]:
    """Per convocation of a session, the state of its grid in French (en cours, signée n/N with
    N the members who sign for this candidate, signature rompue); absent: à remplir. Reads the
    session's members and its convocations' parcours as the caller loaded them."""
    states: dict[int, str] = {}
    for evaluation in session.scalars(
        select(Evaluation)
        .where(Evaluation.session_id == jury_session.id)
        .options(selectinload(Evaluation.avis), selectinload(Evaluation.signatures))
    ):
        if signature_state(evaluation) == "broken":
            states[evaluation.convocation_id] = "signature rompue"
        elif evaluation.frozen:
            required = required_signer_ids(jury_session, evaluation.parcours)
            count = signed_count(evaluation, required)
            states[evaluation.convocation_id] = f"signée {count}/{len(required)}"
        elif (
            evaluation.marks
            or evaluation.comments
            or any(a.favourable is not None for a in evaluation.avis)
        ):
            states[evaluation.convocation_id] = "en cours"
    return states


# --- the day of the interview --------------------------------------------------------------


def fr_date(moment: datetime) -> str:
    """« 9 février 2027 », the day in Paris."""
    day = moment.astimezone(PARIS).date()
    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month]} {day.year}"


def too_early(convocation: Convocation, now: datetime) -> str | None:
    """The French message when ``now`` is before the Paris day of the interview, else None."""
    if now.astimezone(PARIS).date() >= convocation.at.astimezone(PARIS).date():
        return None
    return (
        f"L'entretien a lieu le {fr_date(convocation.at)} : "
        "la grille s'ouvre le jour de l'entretien."
    )


# --- results and what is missing -----------------------------------------------------------


def results(
    evaluation: Evaluation | None, certification: Certification, held: frozenset[str]
) -> CertificationResult:
    return rules.grid_result(certification, evaluation.marks if evaluation else {}, held)


def signature_problems(
    evaluation: Evaluation | None, certification: Certification, held: frozenset[str]
) -> dict[str, dict[str, str]]:
    """Per evaluated bloc, field → French message of what stops the signature."""
    marks = evaluation.marks if evaluation else {}
    computed = {b.key: b.validated for b in results(evaluation, certification, held).blocs}
    problems: dict[str, dict[str, str]] = {}
    for bloc_key, keys in rules.unmarked_criteria(certification, marks, held).items():
        problems.setdefault(bloc_key, {})["criteria"] = (
            f"{len(keys)} critère(s) non renseigné(s) : {', '.join(keys)}."
        )
    for cert_bloc in certification.blocs:
        if cert_bloc.key in held:
            continue
        avis = evaluation.avis_for(cert_bloc.key) if evaluation else None
        found = rules.avis_problems(
            computed=computed[cert_bloc.key],
            favourable=avis.favourable if avis else None,
            justification=avis.justification if avis else "",
            recommendations=avis.recommendations if avis else "",
        )
        if found:
            problems.setdefault(cert_bloc.key, {}).update(found)
    return problems


# --- the grid ------------------------------------------------------------------------------


def _check(grid: GridInput, certification: Certification, held: frozenset[str]) -> None:
    owner = {c.key: cb.key for cb, comp in certification.competences() for c in comp.criteria}
    competences = {comp.key: cb.key for cb, comp in certification.competences()}
    for key in grid.marks:
        if key not in owner:
            raise GridRejected(f"Critère inconnu dans cette certification : {key}.")
        if owner[key] in held:
            raise GridRejected(f"Le bloc {owner[key]} est déjà détenu : {key} n'est pas évalué.")
    for key in grid.comments:
        if key not in competences or competences[key] in held:
            raise GridRejected(f"Compétence inconnue ou non évaluée : {key}.")
    for key in grid.avis:
        if key not in certification.bloc_keys or key in held:
            raise GridRejected(f"Bloc inconnu ou non évalué : {key}.")
    errors: dict[str, str] = {}
    for key, text in grid.comments.items():
        if len(text) > MAX_COMMENT:
            errors[f"comment-{key}"] = (
                f"Le commentaire ne doit pas dépasser {MAX_COMMENT} caractères."
            )
    for key, avis in grid.avis.items():
        for name, text in (
            ("justification", avis.justification),
            ("recommendations", avis.recommendations),
        ):
            if len(text) > MAX_COMMENT:
                errors[f"{name}-{key}"] = f"Ce texte ne doit pas dépasser {MAX_COMMENT} caractères."
    if errors:
        raise GridInvalid(errors)


def _same(evaluation: Evaluation | None, grid: GridInput, evaluated: list[str]) -> bool:
    stored_marks = evaluation.marks if evaluation else {}
    stored_comments = {k: v for k, v in (evaluation.comments if evaluation else {}).items() if v}
    if stored_marks != grid.marks or stored_comments != {
        k: v for k, v in grid.comments.items() if v
    }:
        return False
    for bloc_key in evaluated:
        stored = evaluation.avis_for(bloc_key) if evaluation else None
        given = grid.avis.get(bloc_key, AvisInput())
        current = (
            AvisInput(stored.favourable, stored.justification, stored.recommendations)
            if stored
            else AvisInput()
        )
        if current != given:
            return False
    return True


def frozen_message(evaluation: Evaluation) -> str:
    names = " et ".join(s.user.full_name for s in evaluation.signatures) or "le jury"
    return f"L'avis est signé par {names} : il ne peut plus être modifié."


def save_grid(
    *,
    session: Session,
    actor: Actor,
    user: User,
    convocation: Convocation,
    grid: GridInput,
    lock_version: int,
    now: datetime,
) -> Evaluation | None:
    """Save the whole grid and avis as sent (a full replacement). The evaluation is opened by
    the first save that changes something, from the day of the interview, with a snapshot of
    the blocs held then; the same content twice is a no-op."""
    if membership(session, user, convocation) is None:
        raise NotAllowed
    early = too_early(convocation, now)
    if early:
        raise TooEarly(early)
    certification = certification_of(session, convocation)
    evaluation = find(session, convocation.id)
    if evaluation is not None:
        session.refresh(evaluation, with_for_update=True)
        if evaluation.frozen:
            raise Frozen(frozen_message(evaluation))
    held = held_blocs(session, convocation.parcours, evaluation)
    _check(grid, certification, held)
    evaluated = [key for key in certification.bloc_keys if key not in held]
    if _same(evaluation, grid, evaluated):
        return evaluation
    if (evaluation.lock_version if evaluation else 0) != lock_version:
        raise GridConflict(evaluation)
    if evaluation is None:
        evaluation = Evaluation(
            convocation_id=convocation.id,
            session_id=convocation.session_id,
            parcours_id=convocation.parcours_id,
            held_blocs=sorted(held),
            lock_version=0,
            created_at=now,
        )
        session.add(evaluation)
    evaluation.marks = dict(grid.marks)
    evaluation.comments = {k: v for k, v in grid.comments.items() if v}
    for bloc_key in evaluated:
        given = grid.avis.get(bloc_key, AvisInput())
        avis = evaluation.avis_for(bloc_key)
        if avis is None:
            avis = BlocAvis(bloc_key=bloc_key)
            evaluation.avis.append(avis)
        avis.favourable = given.favourable
        avis.justification, avis.recommendations = given.justification, given.recommendations
    evaluation.lock_version += 1
    evaluation.updated_at, evaluation.updated_by_id = now, user.id
    session.flush()
    record(
        session=session,
        actor=actor,
        action="evaluation.save",
        object_type="evaluation",
        object_id=evaluation.id,
        subject_id=convocation.parcours.candidate_id,
        now=now,
        details={"marked": len(grid.marks), "lock_version": evaluation.lock_version},
    )
    return evaluation


# --- the signature -------------------------------------------------------------------------


def content_digest(session: Session, evaluation: Evaluation) -> str:
    return evaluation_hash(evaluation, certification_code=evaluation.parcours.certification.code)


def sign(
    *,
    session: Session,
    actor: Actor,
    user: User,
    evaluation: Evaluation,
    confirmed_hash: str,
    now: datetime,
) -> AvisSignature:
    """Sign the grid and avis whose hash the member confirmed. Only the members who sit for
    this candidate sign (``rules.required_signers``); the first signature freezes the content,
    the others sign the same hash; the last required one makes the avis final."""
    seat = membership(session, user, evaluation.convocation)
    if seat is None:
        raise NotAllowed
    early = too_early(evaluation.convocation, now)
    if early:
        raise TooEarly(early)
    required = required_signers_of(evaluation)
    if user.id not in required:
        raise NotASigner(NOT_A_SIGNER)
    session.refresh(evaluation, with_for_update=True)
    mine = next((s for s in evaluation.signatures if s.user_id == user.id), None)
    if mine is not None:
        if mine.content_hash == confirmed_hash:
            return mine  # a double submission: one signature
        raise GridConflict(evaluation)
    digest = content_digest(session, evaluation)
    if evaluation.frozen:
        if signature_state(evaluation) == "broken":
            raise SignatureRefused(BROKEN_MESSAGE)
    else:
        certification = certification_of(session, evaluation)
        problems = signature_problems(evaluation, certification, evaluation.held)
        if problems:
            raise SignatureRefused(
                "La grille ou l'avis est incomplet.",
                {bloc: list(fields.values()) for bloc, fields in problems.items()},
            )
    if digest != confirmed_hash:
        raise GridConflict(evaluation)
    signature = AvisSignature(
        evaluation_id=evaluation.id,
        user_id=user.id,
        quality=seat.quality,
        signed_at=now,
        ip=actor.ip[:45],
        content_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(signature)
            session.flush()
    except IntegrityError:
        raise GridConflict(evaluation) from None  # signed meanwhile by the same member
    if not evaluation.frozen:
        evaluation.content_hash, evaluation.frozen_at = digest, now
    entry = record(
        session=session,
        actor=actor,
        action="evaluation.sign",
        object_type="evaluation",
        object_id=evaluation.id,
        subject_id=evaluation.parcours.candidate_id,
        now=now,
        details={"content_hash": digest, "quality": seat.quality},
    )
    signature.audit_seq = entry.seq
    session.flush()
    session.refresh(evaluation, attribute_names=["signatures"])
    if required <= {s.user_id for s in evaluation.signatures}:
        evaluation.signed_at = now
        record(
            session=session,
            actor=actor,
            action="evaluation.signed",
            object_type="evaluation",
            object_id=evaluation.id,
            subject_id=evaluation.parcours.candidate_id,
            now=now,
            details={
                "content_hash": digest,
                "signatures": signed_count(evaluation, required),
                "required": sorted(required),
            },
        )
    session.flush()
    return signature


def marks_of(evaluation: Evaluation | None) -> Mapping[str, bool]:
    return evaluation.marks if evaluation else {}
