"""What both crash tests check once the server is back: every acknowledged attestation draft
and signature (hash for hash), every acknowledged annex (row, file, SHA-256)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.models import AttestationVersion
from tests.crash.stream import Attester, Uploader
from vae.livret.models import Annex


@dataclass
class Found:
    versions: dict[int, AttestationVersion]
    annexes: list[Annex]
    stored: set[str]  # SHA-256 of the annexes of the situation
    names: set[str]  # every stored annex name, for the orphan check


def acknowledged_writes_found(
    db: Session, folder: Path, situation_id: int, attester: Attester, uploader: Uploader
) -> Found:
    versions = {v.id: v for v in db.scalars(select(AttestationVersion))}
    assert set(attester.drafts) <= set(versions)
    for version_id, digest in attester.signatures:
        version = versions[version_id]
        assert version.signed_at is not None and version.content_hash == digest
    annexes = list(db.scalars(select(Annex).where(Annex.situation_id == situation_id)))
    stored = {a.sha256 for a in annexes}
    assert set(uploader.acked) <= stored
    for annex in annexes:
        path = folder / annex.stored_name
        assert path.is_file(), f"annex row {annex.id} without its file"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == annex.sha256
    names = {a.stored_name for a in db.scalars(select(Annex))}
    return Found(versions, annexes, stored, names)
