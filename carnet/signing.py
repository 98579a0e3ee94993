"""Canonical content of an attestation version and its SHA-256: what a signature binds."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_content(
    *,
    parcours_id: int,
    competence_key: str,
    role: str,
    number: int,
    attester_id: int,
    situation_date: str,
    situation_kind: str,
    description: str,
    observed_criteria: list[str],
    verdict: str,
    comment: str,
) -> bytes:
    content: dict[str, Any] = {
        "parcours": parcours_id,
        "competence": competence_key,
        "role": role,
        "version": number,
        "attester": attester_id,
        "situation_date": situation_date,
        "situation_kind": situation_kind,
        "description": description,
        "observed_criteria": sorted(observed_criteria),
        "verdict": verdict,
        "comment": comment,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
