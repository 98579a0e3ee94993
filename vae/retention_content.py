"""What anonymising one parcours changes, table by table.

Content is what people wrote about the candidate's work: the livret (profile, career, the
situations of every edition, the annexes), the carnet (pré-positionnement comments, attestation
descriptions and comments, milestone notes and outside participants) and the jury's prose
(grid comments, justifications, préconisations, the recours, the national jury's reasons). It
is replaced by ``[anonymisé le YYYY-MM-DD]``; annex rows are deleted and their files listed for
deletion. Structure and results stay: blocs, competences and criteria claimed, verdicts, grid
marks, avis, decisions, signatures and hashes, certificates.

Every function computes the change and makes it only when ``apply`` is true, so a dry run
counts exactly what a real run would do. Text already anonymised is left as it is.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.models import Attestation, AttestationVersion, Milestone, SelfAssessment
from vae.anonymisation import is_anonymised
from vae.decision.models import Deliberation, Evaluation, NationalDossier, Recours
from vae.livret.models import Livret
from vae.livret.rules import RUBRICS

SITUATION_TEXTS = ("title", "organisme_service", *RUBRICS)


@dataclass
class Changes:
    rows: Counter[str] = field(default_factory=Counter)  # table → rows changed (or deleted)
    files: list[str] = field(default_factory=list)  # stored annex names to delete

    def count(self, table: str, changed: bool) -> None:
        if changed:
            self.rows[table] += 1


def text(value: str | None, mark: str) -> str:
    """The anonymised form of a text: empty stays empty, the marker stays as it is."""
    if not value or is_anonymised(value):
        return value or ""
    return mark


def _set(row: object, values: dict[str, Any], apply: bool) -> bool:
    changed = any(getattr(row, name) != value for name, value in values.items())
    if changed and apply:
        for name, value in values.items():
            setattr(row, name, value)
    return changed


def anonymise_snapshot(snapshot: dict[str, Any], mark: str) -> dict[str, Any]:
    """A submitted edition's frozen content with its texts replaced and annex names dropped
    (hashes, page counts and sizes stay)."""
    result = copy.deepcopy(snapshot)
    profile = result.get("profile")
    if isinstance(profile, dict):
        for name in ("current_job", "current_service"):
            profile[name] = text(profile.get(name), mark)
        profile["career"] = []
        profile["trainings"] = []
    for situation in result.get("situations", []):
        for name in SITUATION_TEXTS:
            if name in situation:
                situation[name] = text(situation[name], mark)
        for annex in situation.get("annexes", []):
            annex["name"] = text(annex.get("name"), mark)
            annex.pop("stored", None)
    return result


def anonymise_parcours(session: Session, parcours_id: int, mark: str, *, apply: bool) -> Changes:
    changes = Changes()
    _livret(session, parcours_id, mark, apply, changes)
    _carnet(session, parcours_id, mark, apply, changes)
    _decisions(session, parcours_id, mark, apply, changes)
    if apply:
        session.flush()
    return changes


def _livret(session: Session, parcours_id: int, mark: str, apply: bool, changes: Changes) -> None:
    livret = session.scalar(select(Livret).where(Livret.parcours_id == parcours_id))
    if livret is None:
        return
    profile = {
        "current_job": text(livret.current_job, mark),
        "current_service": text(livret.current_service, mark),
        "career": [],
        "trainings": [],
    }
    changes.count("livrets", _set(livret, profile, apply))
    for situation in livret.situations:
        values = {name: text(getattr(situation, name), mark) for name in SITUATION_TEXTS}
        changes.count("situations", _set(situation, values, apply))
        for annex in list(situation.annexes):
            changes.files.append(annex.stored_name)
            changes.count("annexes", True)
            if apply:
                session.delete(annex)
    for submission in livret.submissions:
        for frozen in submission.snapshot.get("situations", []):
            changes.files.extend(a["stored"] for a in frozen.get("annexes", []) if "stored" in a)
        frozen_values = {
            "snapshot": anonymise_snapshot(submission.snapshot, mark),
            "return_reason": text(submission.return_reason, mark),
        }
        changes.count("livret_submissions", _set(submission, frozen_values, apply))
    changes.files = sorted(set(changes.files))


def _carnet(session: Session, parcours_id: int, mark: str, apply: bool, changes: Changes) -> None:
    for assessment in session.scalars(
        select(SelfAssessment).where(SelfAssessment.parcours_id == parcours_id)
    ):
        changes.count(
            "self_assessments", _set(assessment, {"comment": text(assessment.comment, mark)}, apply)
        )
    versions = session.scalars(
        select(AttestationVersion)
        .join(Attestation, Attestation.id == AttestationVersion.attestation_id)
        .where(Attestation.parcours_id == parcours_id)
    )
    for version in versions:
        values = {
            "description": text(version.description, mark),
            "comment": text(version.comment, mark),
        }
        changes.count("attestation_versions", _set(version, values, apply))
    for milestone in session.scalars(select(Milestone).where(Milestone.parcours_id == parcours_id)):
        values = {
            "notes": text(milestone.notes, mark),
            "other_participants": text(milestone.other_participants, mark),
        }
        changes.count("milestones", _set(milestone, values, apply))


def _decisions(
    session: Session, parcours_id: int, mark: str, apply: bool, changes: Changes
) -> None:
    evaluations = session.scalars(select(Evaluation).where(Evaluation.parcours_id == parcours_id))
    for evaluation in evaluations:
        comments = {key: text(value, mark) for key, value in (evaluation.comments or {}).items()}
        changes.count("evaluations", _set(evaluation, {"comments": comments}, apply))
        for avis in evaluation.avis:
            values = {
                "justification": text(avis.justification, mark),
                "recommendations": text(avis.recommendations, mark),
            }
            changes.count("bloc_avis", _set(avis, values, apply))
        recours: Recours | None = evaluation.recours
        if recours is not None:
            changes.count("recours", _set(recours, {"text": text(recours.text, mark)}, apply))
    decisions = session.scalars(
        select(Deliberation)
        .join(NationalDossier, NationalDossier.id == Deliberation.dossier_id)
        .where(NationalDossier.parcours_id == parcours_id)
    )
    for decision in decisions:
        changes.count(
            "deliberations", _set(decision, {"reason": text(decision.reason, mark)}, apply)
        )
