"""Issued certificates: queries, and revocation by an administrator.

A revoked certificate stays on record (its verification page says it was revoked, and when);
the reason is kept for the administration and the audit trail, not shown to the public.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vae.audit.service import Actor, record
from vae.decision.models import Certificate

MIN_REASON = 10
MAX_REASON = 2000
PAGE_SIZE = 50
MAX_QUERY = 100


class CertificateError(ValueError):
    """A refused act on a certificate: the form field concerned and the French message."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def revoke(
    *, session: Session, actor: Actor, certificate: Certificate, reason: str, now: datetime
) -> Certificate:
    """Revoke ``certificate`` for ``reason``; refused when already revoked or unexplained."""
    # the row is locked first: two administrators revoking at once, one wins and one is told
    session.refresh(certificate, with_for_update=True)
    if certificate.revoked_at is not None:
        raise CertificateError(
            "reason", f"Ce certificat est déjà révoqué (le {certificate.revoked_at:%d/%m/%Y})."
        )
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise CertificateError(
            "reason",
            f"Indiquez le motif de la révocation ({MIN_REASON} caractères au moins).",
        )
    if len(reason) > MAX_REASON:
        raise CertificateError("reason", f"Le motif ne peut dépasser {MAX_REASON} caractères.")
    certificate.revoked_at = now
    certificate.revoked_by_id = actor.user_id
    certificate.revoked_reason = reason
    session.flush()
    record(
        session=session,
        actor=actor,
        action="certificate.revoke",
        object_type="certificate",
        object_id=certificate.id,
        subject_id=certificate.holder_id,
        details={"code": certificate.code, "kind": certificate.kind, "reason": reason},
        now=now,
    )
    return certificate


def for_holder(session: Session, user_id: int) -> list[Certificate]:
    """The certificates issued to ``user_id``, newest first (revoked ones included)."""
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.holder_id == user_id)
            .order_by(Certificate.issued_on.desc(), Certificate.kind.desc(), Certificate.id)
        )
    )


def by_code(session: Session, code: str) -> Certificate | None:
    """The certificate with this (normalised) verification code."""
    return session.scalar(select(Certificate).where(Certificate.code == code))


def by_sha256(session: Session, digest: str) -> Certificate | None:
    """The certificate whose stored sealed PDF has this SHA-256 (hex)."""
    return session.scalar(select(Certificate).where(Certificate.pdf_sha256 == digest.lower()))


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search(
    session: Session, query: str, *, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[Certificate], int]:
    """Certificates whose holder's name or code contains ``query``, newest first, one page;
    and how many match in all."""
    condition = None
    term = query.strip()[:MAX_QUERY]
    if term:
        pattern = _like(term)
        full_name = func.lower(Certificate.holder_first_name + " " + Certificate.holder_last_name)
        condition = or_(
            full_name.like(pattern, escape="\\"),
            func.lower(Certificate.holder_last_name + " " + Certificate.holder_first_name).like(
                pattern, escape="\\"
            ),
            func.lower(Certificate.code).like(pattern, escape="\\"),
            func.lower(func.replace(Certificate.code, "-", "")).like(
                _like(term.replace("-", "").replace(" ", "")), escape="\\"
            ),
        )
    count = select(func.count()).select_from(Certificate)
    rows = select(Certificate).order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    if condition is not None:
        count = count.where(condition)
        rows = rows.where(condition)
    total = session.scalar(count) or 0
    page = max(1, page)
    found = session.scalars(rows.offset((page - 1) * page_size).limit(page_size))
    return list(found), total
