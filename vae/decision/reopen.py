"""The administrator reopens a frozen avis: a member refuses to sign, or the signature is
broken. The signatures are deleted (each kept in the audit entry, with the reason); the members
then edit the grid and sign again. Not once the candidate has answered the avis (recours or
waiver) nor once it is on a national agenda. Nothing is committed here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.decision.evaluation import GridInvalid, NotAllowed
from vae.decision.models import Evaluation, NationalDossier
from vae.people.models import Role, User

REASON_MIN, REASON_MAX = 10, 2000


class ReopenRefused(Exception):
    """The avis cannot be reopened (not frozen, on a national agenda…): message in French."""


def reopen_problem(session: Session, evaluation: Evaluation | None) -> str | None:
    """Why the avis cannot be reopened (French), None when it can."""
    if evaluation is None or not evaluation.frozen:
        return "L'avis n'est pas signé : il n'y a rien à rouvrir."
    if evaluation.recours is not None:
        return (
            "Le candidat a répondu à cet avis (recours ou renonciation) : "
            "il ne peut plus être rouvert."
        )
    on_agenda = session.scalar(
        select(NationalDossier.id).where(NationalDossier.evaluation_id == evaluation.id)
    )
    if on_agenda is not None:
        return (
            "L'avis est inscrit à l'ordre du jour d'une session nationale : "
            "il ne peut plus être rouvert."
        )
    return None


def _check_reason(reason: str) -> str:
    stripped = reason.strip()
    if len(stripped) < REASON_MIN:
        raise GridInvalid(
            {"reason": f"Indiquez le motif de la réouverture ({REASON_MIN} caractères au moins)."}
        )
    if len(reason) > REASON_MAX:
        raise GridInvalid({"reason": f"Le motif ne doit pas dépasser {REASON_MAX} caractères."})
    return stripped


def reopen(
    *,
    session: Session,
    actor: Actor,
    user: User,
    evaluation: Evaluation | None,
    reason: str,
    now: datetime,
) -> Evaluation:
    """Delete the signatures of a frozen avis and clear its hash and dates (audit
    ``evaluation.reopen`` with each signer, the hash and the reason)."""
    if not user.has_role(Role.ADMIN) or not user.is_active:
        raise NotAllowed
    stripped = _check_reason(reason)
    if evaluation is not None:
        session.refresh(evaluation, with_for_update=True)
    problem = reopen_problem(session, evaluation)
    if problem:
        raise ReopenRefused(problem)
    assert evaluation is not None
    signatures: list[dict[str, Any]] = [
        {
            "user_id": s.user_id,
            "name": s.user.full_name,
            "quality": s.quality,
            "content_hash": s.content_hash,
            "signed_at": s.signed_at.isoformat(),
            "audit_seq": s.audit_seq,
        }
        for s in evaluation.signatures
    ]
    details = {
        "reason": stripped,
        "content_hash": evaluation.content_hash,
        "signed_at": evaluation.signed_at.isoformat() if evaluation.signed_at else None,
        "signatures": signatures,
    }
    for signature in list(evaluation.signatures):
        session.delete(signature)
    evaluation.content_hash = evaluation.frozen_at = evaluation.signed_at = None
    evaluation.updated_at, evaluation.updated_by_id = now, user.id
    session.flush()
    session.refresh(evaluation, attribute_names=["signatures"])
    record(
        session=session,
        actor=actor,
        action="evaluation.reopen",
        object_type="evaluation",
        object_id=evaluation.id,
        subject_id=evaluation.parcours.candidate_id,
        now=now,
        details=details,
    )
    return evaluation
