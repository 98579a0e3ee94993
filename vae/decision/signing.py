"""Canonical content of an evaluation (grid and avis) and its SHA-256: what the jury signs.

Every member signs the same hash. The content holds what the jury entered (the marks, the
comments, the avis per bloc) and what it is about (convocation, parcours, certification, held
blocs); the computed results are left out since they follow from the marks. The held blocs
are the evaluation's snapshot (``Evaluation.held``): a CCP issued later does not break the hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vae.anonymisation import is_anonymised
from vae.decision.models import Evaluation
from vae.decision.rules import SignerFacts, required_signers
from vae.jury.models import JurySession
from vae.parcours.models import Parcours

SignatureState = Literal["draft", "frozen", "signed", "broken", "anonymised"]
BROKEN_MESSAGE = "Signature rompue : le contenu ne correspond plus à ce qui a été signé."


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
            held_blocs=evaluation.held,  # the snapshot taken when it opened
            marks=evaluation.marks or {},
            comments=evaluation.comments or {},
            avis=[
                AvisContent(a.bloc_key, a.favourable, a.justification, a.recommendations)
                for a in evaluation.avis
            ],
        )
    )


def signature_state(evaluation: Evaluation) -> SignatureState:
    """Where the evaluation stands, re-verified against what was signed: ``draft`` (not
    frozen), ``frozen`` (signed by some), ``signed`` (final) or ``broken`` when the stored
    content no longer gives the frozen hash, or a signature is of another hash; ``anonymised``
    when the difference is the retention period's anonymisation (nothing left to check)."""
    return verified_state(
        frozen_hash=evaluation.content_hash,
        signature_hashes=lambda: [s.content_hash for s in evaluation.signatures],
        signed=evaluation.signed_at is not None,
        current_hash=lambda: evaluation_hash(
            evaluation, certification_code=evaluation.parcours.certification.code
        ),
        anonymised=lambda: anonymised_content(
            evaluation.comments,
            [
                AvisContent(a.bloc_key, a.favourable, a.justification, a.recommendations)
                for a in evaluation.avis
            ],
        ),
    )


def verified_state(
    *,
    frozen_hash: str | None,
    signature_hashes: Callable[[], Collection[str]],
    signed: bool,
    current_hash: Callable[[], str],
    anonymised: Callable[[], bool],
) -> SignatureState:
    """``signature_state`` on plain data, for the pages that read many evaluations without
    loading them as ORM objects: ``frozen_hash`` is ``Evaluation.content_hash``,
    ``current_hash`` gives the hash of the content as stored now (``canonical_content``). The
    callables are only called when the answer needs them, in ``signature_state``'s order."""
    if frozen_hash is None:
        return "broken" if signature_hashes() else "draft"
    if current_hash() != frozen_hash or any(h != frozen_hash for h in signature_hashes()):
        return "anonymised" if anonymised() else "broken"
    return "signed" if signed else "frozen"


def anonymised_content(comments: Mapping[str, str] | None, avis: Collection[AvisContent]) -> bool:
    """Whether the retention period's anonymisation replaced any text of the evaluation."""
    texts = [*(comments or {}).values()]
    texts += [t for a in avis for t in (a.justification, a.recommendations)]
    return any(is_anonymised(text) for text in texts)


def required_signer_ids(jury_session: JurySession, parcours: Parcours) -> frozenset[int]:
    """The members of ``jury_session`` who sign the avis on ``parcours``'s candidate."""
    return required_signers(
        [
            SignerFacts(m.user_id, m.quality, m.user.organisation.branche, m.user.organisation_id)
            for m in jury_session.members
        ],
        candidate_branche=parcours.employer.branche,
        candidate_organisation_id=parcours.employer_id,
    )
