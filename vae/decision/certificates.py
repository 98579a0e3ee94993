"""Issued certificates: queries, and revocation by an administrator.

A revoked certificate stays on record (its verification page says it was revoked, and when);
the reason is kept for the administration and the audit trail, not shown to the public.

Revoking a CCP also revokes, in the same transaction, the holder's CQPs whose certification
contains its bloc (GRU and MDR belong to both CQPs): a CQP rests on all its blocs. Each such
revocation is audited on its own, with ``cascade_from`` (the CCP's code) in its details.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vae.audit.models import AuditEntry
from vae.audit.service import Actor, record
from vae.decision.models import Certificate, CertificateKind
from vae.jury.rules import MONTHS_FR
from vae.people.models import User
from vae.referentiel.service import get_referentiel

MIN_REASON = 10
MAX_REASON = 2000
PAGE_SIZE = 50
MAX_QUERY = 100
REVOKE_ACTION = "certificate.revoke"
PARIS = ZoneInfo("Europe/Paris")


class CertificateError(ValueError):
    """A refused act on a certificate: the form field concerned and the French message."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class AlreadyRevoked(CertificateError):
    """The certificate was revoked meanwhile (a double click, a stale form): nothing to do."""

    def __init__(self, certificate: Certificate, revoked_by: User | None) -> None:
        assert certificate.revoked_at is not None
        by = f" par {revoked_by.full_name}" if revoked_by is not None else ""
        super().__init__(
            "reason",
            f"Ce certificat a déjà été révoqué {when(certificate.revoked_at)}{by} : "
            "rien n'a été modifié.",
        )


def when(moment: datetime) -> str:
    """« le 2 mars 2027 à 10:30 », in French time."""
    local = moment.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    return f"le {day} {MONTHS_FR[local.month]} {local.year} à {local:%H:%M}"


def revoke(
    *, session: Session, actor: Actor, certificate: Certificate, reason: str, now: datetime
) -> Certificate:
    """Revoke ``certificate`` for ``reason``, and for a CCP the CQPs that rest on it (see
    ``cascade_targets``); refused when already revoked or unexplained."""
    # the row is locked first: two administrators revoking at once, one wins and one is told
    session.refresh(certificate, with_for_update=True)
    if certificate.revoked_at is not None:
        revoked_by = (
            session.get(User, certificate.revoked_by_id) if certificate.revoked_by_id else None
        )
        raise AlreadyRevoked(certificate, revoked_by)
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise CertificateError(
            "reason",
            f"Indiquez le motif de la révocation ({MIN_REASON} caractères au moins).",
        )
    if len(reason) > MAX_REASON:
        raise CertificateError("reason", f"Le motif ne peut dépasser {MAX_REASON} caractères.")
    _revoke_one(session, actor, certificate, reason, now)
    if certificate.kind == CertificateKind.CCP.value:
        cascade = f"CCP {certificate.bloc_code} révoqué {when(now)} : {reason}"
        for cqp in cascade_targets(session, certificate):
            session.refresh(cqp, with_for_update=True)
            if cqp.revoked_at is None:
                _revoke_one(session, actor, cqp, cascade, now, cascade_from=certificate)
    return certificate


def _revoke_one(
    session: Session,
    actor: Actor,
    certificate: Certificate,
    reason: str,
    now: datetime,
    *,
    cascade_from: Certificate | None = None,
) -> None:
    certificate.revoked_at = now
    certificate.revoked_by_id = actor.user_id
    certificate.revoked_reason = reason
    session.flush()
    details: dict[str, object] = {
        "code": certificate.code,
        "kind": certificate.kind,
        "reason": reason,
    }
    if cascade_from is not None:
        details |= {"cascade_from": cascade_from.code, "cascade_bloc": cascade_from.bloc_code}
    record(
        session=session,
        actor=actor,
        action=REVOKE_ACTION,
        object_type="certificate",
        object_id=certificate.id,
        subject_id=certificate.holder_id,
        details=details,
        now=now,
    )


def _contains_bloc(session: Session, cqp: Certificate, bloc_key: str) -> bool:
    """Whether the certification of ``cqp`` (in the référentiel version of its parcours, else
    the current one) has the bloc ``bloc_key``."""
    version_id = cqp.parcours.certification.version_id if cqp.parcours else None
    referentiel = get_referentiel(session, version_id) or get_referentiel(session)
    if referentiel is None:
        return False
    try:
        return bloc_key in referentiel.certification(cqp.certification_code).bloc_keys
    except KeyError:
        return False


def cascade_targets(session: Session, ccp: Certificate) -> list[Certificate]:
    """The valid CQPs of the holder that revoking ``ccp`` revokes too: those whose
    certification contains its bloc — unless the holder keeps another valid CCP of that bloc
    (then the CQP still rests on a valid one)."""
    if ccp.kind != CertificateKind.CCP.value or not ccp.bloc_key:
        return []
    others = session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(
            Certificate.holder_id == ccp.holder_id,
            Certificate.kind == CertificateKind.CCP.value,
            Certificate.bloc_key == ccp.bloc_key,
            Certificate.revoked_at.is_(None),
            Certificate.id != ccp.id,
        )
    )
    if others:
        return []
    cqps = session.scalars(
        select(Certificate)
        .where(
            Certificate.holder_id == ccp.holder_id,
            Certificate.kind == CertificateKind.CQP.value,
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.issued_on, Certificate.id)
    )
    return [cqp for cqp in cqps if _contains_bloc(session, cqp, ccp.bloc_key)]


def _revocations(session: Session, holder_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == REVOKE_ACTION,
                AuditEntry.object_type == "certificate",
                AuditEntry.subject_id == holder_id,
            )
            .order_by(AuditEntry.seq)
        )
    )


def cascade_source(session: Session, certificate: Certificate) -> Certificate | None:
    """The CCP whose revocation revoked ``certificate`` (a CQP), if it was revoked so."""
    if certificate.revoked_at is None:
        return None
    for entry in _revocations(session, certificate.holder_id):
        if entry.object_id == str(certificate.id) and entry.details.get("cascade_from"):
            return by_code(session, str(entry.details["cascade_from"]))
    return None


def cascaded_from(session: Session, ccp: Certificate) -> list[Certificate]:
    """The CQPs the revocation of ``ccp`` revoked with it."""
    ids = [
        int(entry.object_id)
        for entry in _revocations(session, ccp.holder_id)
        if entry.details.get("cascade_from") == ccp.code
    ]
    found = [session.get(Certificate, certificate_id) for certificate_id in ids]
    return [certificate for certificate in found if certificate is not None]


def revoked_certificates(session: Session) -> list[Certificate]:
    """Every revoked certificate, in the order of revocation."""
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.revoked_at.is_not(None))
            .order_by(Certificate.revoked_at, Certificate.id)
        )
    )


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
