"""Canonical content of an evaluation (grid and avis) and its SHA-256: what the jury signs.

Every member signs the same hash. The content holds what the jury entered (the marks, the
comments, the avis per bloc) and what it is about (convocation, parcours, certification, held
blocs); the computed results are left out since they follow from the marks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from vae.decision.models import Evaluation


@dataclass(frozen=True, slots=True)
class AvisContent:
    bloc_key: str
    favourable: bool | None
    justification: str
    recommendations: str


def canonical_content(
    *,
    evaluation_id: int,
    convocation_id: int,
    parcours_id: int,
    session_id: int,
    certification_code: str,
    held_blocs: Collection[str],
    marks: Mapping[str, bool],
    comments: Mapping[str, str],
    avis: Collection[AvisContent],
) -> bytes:
    content: dict[str, Any] = {
        "evaluation": evaluation_id,
        "convocation": convocation_id,
        "parcours": parcours_id,
        "session": session_id,
        "certification": certification_code,
        "held_blocs": sorted(held_blocs),
        "marks": {key: bool(value) for key, value in sorted(marks.items())},
        "comments": {key: text for key, text in sorted(comments.items()) if text},
        "avis": [
            {
                "bloc": a.bloc_key,
                "favourable": a.favourable,
                "justification": a.justification,
                "recommendations": a.recommendations,
            }
            for a in sorted(avis, key=lambda a: a.bloc_key)
        ],
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def evaluation_hash(evaluation: Evaluation, *, certification_code: str) -> str:
    """The SHA-256 of the evaluation as it is stored now."""
    return content_hash(
        canonical_content(
            evaluation_id=evaluation.id,
            convocation_id=evaluation.convocation_id,
            parcours_id=evaluation.parcours_id,
            session_id=evaluation.session_id,
            certification_code=certification_code,
            held_blocs=evaluation.parcours.held_bloc_keys,
            marks=evaluation.marks or {},
            comments=evaluation.comments or {},
            avis=[
                AvisContent(a.bloc_key, a.favourable, a.justification, a.recommendations)
                for a in evaluation.avis
            ],
        )
    )
