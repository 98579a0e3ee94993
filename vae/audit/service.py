"""Write and verify the audit chain.

Appending locks the single ``audit_head`` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
serialises writers), so concurrent requests, even from several processes, extend one chain.
An entry is written in the caller's transaction: it commits, or rolls back, with the act.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vae.audit.models import AuditEntry, AuditHead
from vae.orm import utcnow

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, from where. ``user_id`` is None for anonymous or system acts."""

    user_id: int | None
    label: str
    ip: str = ""

    @classmethod
    def system(cls, label: str = "système") -> Actor:
        return cls(user_id=None, label=label, ip="")


def _utc(moment: datetime) -> datetime:
    """The stored form: SQLite gives times back in UTC whatever offset they were written with."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def canonical(entry: AuditEntry) -> bytes:
    content = {
        "seq": entry.seq,
        "at": _utc(entry.at).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "subject_id": entry.subject_id,
        "ip": entry.ip,
        "outcome": entry.outcome,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = "",
    outcome: str = "ok",
    subject_id: int | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    head = session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    at = _utc(now or utcnow())
    entry = AuditEntry(
        seq=head.seq + 1,
        at=at,
        actor_id=actor.user_id,
        actor_label=actor.label[:300],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[
            :60
        ],  # the column's size: an e-mail typed at sign-in may be longer
        subject_id=subject_id,
        ip=actor.ip[:45],
        outcome=outcome,
        details=details or {},
        prev_hash=head.hash,
    )
    entry.hash = hashlib.sha256(canonical(entry)).hexdigest()
    head.seq = entry.seq
    head.hash = entry.hash
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(session: Session, *, batch: int = 2000) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link or content hash is wrong."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        query = select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq)
        rows = session.scalars(query.limit(batch)).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, "entry missing from the chain")
            if entry.prev_hash != prev:
                return VerifyResult(False, checked, entry.seq, "previous-hash link broken")
            if hashlib.sha256(canonical(entry)).hexdigest() != entry.hash:
                return VerifyResult(False, checked, entry.seq, "content does not match its hash")
            prev = entry.hash
            expected_seq += 1
            checked += 1
            last_seq = entry.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(False, checked, checked + 1, "chain truncated after its last entry")
    return VerifyResult(True, checked)
