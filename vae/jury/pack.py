"""The interview pack's pure parts: the 45-minute plan and the weakly evidenced points.

- ``interview_plan``: the candidate's presentation, then the jury's questions, each phase cut
  into a time budget per bloc to assess. Minutes are whole numbers that add up exactly to each
  phase's total (largest remainder method, ties to the earlier bloc, one minute at least).
- ``weak_evidence``: the competences and criteria the dossier shows weakly or not at all, with
  questions to ask, quoting the référentiel's wording.

No session, no clock: callers pass what the dossier says (``Evidence``) per competence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vae.referentiel.model import Bloc, Competence, Criterion

# --- the 45-minute plan ----------------------------------------------------------------------

PRESENTATION = "Présentation du candidat"
QUESTIONS = "Questions du jury"


@dataclass(frozen=True, slots=True)
class BlocToAssess:
    key: str
    title: str
    competences: int
    weak: int = 0  # competences the dossier evidences weakly or not at all


@dataclass(frozen=True, slots=True)
class Slot:
    bloc_key: str
    title: str
    minutes: int
    start: int  # minutes from the start of the interview

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    minutes: int
    start: int
    slots: tuple[Slot, ...]

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(frozen=True, slots=True)
class InterviewPlan:
    total: int
    presentation: Phase
    questions: Phase

    @property
    def phases(self) -> tuple[Phase, Phase]:
        return (self.presentation, self.questions)

    def minutes_for(self, bloc_key: str) -> tuple[int, int]:
        """(presentation, questions) minutes of a bloc; (0, 0) for a bloc not assessed."""
        found = [
            next((s.minutes for s in phase.slots if s.bloc_key == bloc_key), 0)
            for phase in self.phases
        ]
        return found[0], found[1]


def apportion(total: int, weights: Sequence[int], *, minimum: int = 0) -> list[int]:
    """Whole numbers proportional to ``weights`` that add up exactly to ``total``.

    Largest remainder method (ties go to the earlier share); all-zero weights split evenly.
    Then, when ``total`` allows it, a share under ``minimum`` takes minutes, one at a time,
    from the largest share (the later one on a tie).
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must not be negative")
    count = len(weights)
    if count == 0:
        return []
    if sum(weights) == 0:
        weights = [1] * count
    weight_sum = sum(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    order = sorted(range(count), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    if minimum * count <= total:
        for i in range(count):
            while shares[i] < minimum:
                donor = max(range(count), key=lambda j: (shares[j], j))
                shares[donor] -= 1
                shares[i] += 1
    return shares


def interview_plan(
    blocs: Sequence[BlocToAssess], *, total: int = 45, presentation: int = 15
) -> InterviewPlan:
    """The interview: ``presentation`` minutes for the candidate, then the jury's questions.

    The presentation is split in proportion to each bloc's competences; the questions in
    proportion to its competences plus its weakly evidenced ones (those count twice: the jury
    spends its time where the dossier is thin).
    """
    if not 0 < presentation < total:
        raise ValueError(f"the presentation ({presentation} min) must lie within 1 and {total - 1}")
    questions = total - presentation
    first = _phase(PRESENTATION, presentation, 0, blocs, [b.competences for b in blocs])
    second = _phase(
        QUESTIONS, questions, presentation, blocs, [b.competences + b.weak for b in blocs]
    )
    return InterviewPlan(total=total, presentation=first, questions=second)


def _phase(
    name: str, minutes: int, start: int, blocs: Sequence[BlocToAssess], weights: list[int]
) -> Phase:
    slots, at = [], start
    for bloc, share in zip(blocs, apportion(minutes, weights, minimum=1), strict=True):
        slots.append(Slot(bloc.key, bloc.title, share, at))
        at += share
    return Phase(name, minutes, start, tuple(slots))


# --- weakly evidenced competences and criteria -----------------------------------------------

SOLID = "solide"
WEAK = "faible"
NONE = "absente"
LEVEL_LABELS = {SOLID: "Étayée", WEAK: "Peu étayée", NONE: "Rien ne la montre"}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the dossier shows of one competence."""

    situations: tuple[str, ...] = ()  # titles of the livret situations that claim it
    claimed_criteria: frozenset[str] = frozenset()  # criteria those situations tick
    attested_by: int = 0  # carnet: attesters (tutor, manager) whose signed attestation counts
    observed: Mapping[str, int] = field(default_factory=dict)  # criterion → attesters (0–2)
    carnet_summary: str = ""  # the carnet's own words ("Attestée par le tuteur seulement")


@dataclass(frozen=True, slots=True)
class WeakCriterion:
    key: str
    number: int  # 1… within its competence
    label: str
    reason: str
    questions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WeakCompetence:
    bloc_key: str
    key: str
    number: str
    label: str
    level: str  # SOLID (only some criteria are weak), WEAK or NONE
    reasons: tuple[str, ...]
    questions: tuple[str, ...]
    criteria: tuple[WeakCriterion, ...]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level] if self.level != SOLID else "Critères à vérifier"


def competence_level(evidence: Evidence, *, has_livret: bool) -> str:
    """SOLID when a situation claims it (VAE) and both attesters attest it; NONE when neither
    source shows it at all; WEAK otherwise. Without a livret (formation), the carnet decides."""
    claimed = bool(evidence.situations)
    both = evidence.attested_by >= 2
    if both and (claimed or not has_livret):
        return SOLID
    if not claimed and evidence.attested_by == 0:
        return NONE
    return WEAK


def weak_evidence(
    blocs: Sequence[Bloc], evidence: Mapping[str, Evidence], *, has_livret: bool
) -> list[WeakCompetence]:
    """Per bloc, in référentiel order, the competences evidenced weakly or not at all, and the
    competences whose criteria are not all evidenced (a criterion is evidenced when a situation
    ticks it or both attesters observed it), each with suggested questions."""
    found = []
    for bloc in blocs:
        for competence in bloc.competences:
            seen = evidence.get(competence.key, Evidence())
            level = competence_level(seen, has_livret=has_livret)
            criteria = tuple(
                _weak_criterion(number, criterion, seen, has_livret=has_livret)
                for number, criterion in enumerate(competence.criteria, start=1)
                if criterion.key not in seen.claimed_criteria
                and seen.observed.get(criterion.key, 0) < 2
            )
            if level == SOLID and not criteria:
                continue
            found.append(
                WeakCompetence(
                    bloc_key=bloc.key,
                    key=competence.key,
                    number=competence.number,
                    label=competence.label,
                    level=level,
                    reasons=_reasons(seen, level, has_livret=has_livret),
                    questions=competence_questions(competence, seen.situations),
                    criteria=criteria,
                )
            )
    return found


def weak_count(weak: Sequence[WeakCompetence], bloc_key: str) -> int:
    """Competences of a bloc evidenced weakly or not at all (weak criteria alone not counted)."""
    return sum(1 for w in weak if w.bloc_key == bloc_key and w.level != SOLID)


def _reasons(seen: Evidence, level: str, *, has_livret: bool) -> tuple[str, ...]:
    reasons = []
    if has_livret and not seen.situations:
        reasons.append("Aucune situation du livret ne la revendique.")
    if seen.attested_by < 2:
        carnet = seen.carnet_summary or (
            "attestée par un seul des deux" if seen.attested_by == 1 else "pas encore attestée"
        )
        reasons.append(f"Carnet de suivi : {carnet[:1].lower()}{carnet[1:]}.")
    if level == SOLID:
        reasons.append("Compétence étayée, mais certains critères ne le sont pas.")
    return tuple(reasons)


def _weak_criterion(
    number: int, criterion: Criterion, seen: Evidence, *, has_livret: bool
) -> WeakCriterion:
    observed = seen.observed.get(criterion.key, 0)
    parts = []
    if has_livret:
        parts.append("aucune situation ne le coche" if seen.situations else "aucune situation")
    parts.append(
        "carnet : observé par personne"
        if observed == 0
        else "carnet : observé par un seul des deux attestants"
    )
    return WeakCriterion(
        key=criterion.key,
        number=number,
        label=criterion.label,
        reason=_sentence(" ; ".join(parts)),
        questions=criterion_questions(criterion.label, seen.situations),
    )


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


# --- questions -------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def quote(text: str) -> str:
    """A référentiel wording quoted inside a question: one line, no final full stop."""
    cleaned = _SPACES.sub(" ", text).strip()
    while cleaned.endswith((".", ";", ":", ",")) and not cleaned.endswith("..."):
        cleaned = cleaned[:-1].rstrip()
    return f"« {cleaned} »"


def criterion_questions(label: str, situations: Sequence[str] = ()) -> tuple[str, ...]:
    """A question quoting the criterion, anchored in the candidate's situation when one claims
    the competence."""
    if situations:
        return (
            f"Dans la situation {quote(situations[0])}, comment avez-vous mis en œuvre ce "
            f"critère : {quote(label)} ?",
        )
    return (
        "Pouvez-vous décrire une situation de travail où vous avez mis en œuvre ce critère : "
        f"{quote(label)} ?",
    )


def competence_questions(competence: Competence, situations: Sequence[str] = ()) -> tuple[str, ...]:
    if situations:
        first = (
            f"Dans la situation {quote(situations[0])}, qu'est-ce qui montre la compétence "
            f"{quote(competence.label)} ? Qu'avez-vous fait vous-même ?"
        )
    else:
        first = (
            "Quelle situation de votre parcours montre le mieux la compétence "
            f"{quote(competence.label)} ? Racontez-la : le contexte, ce que vous avez fait, "
            "le résultat."
        )
    return (
        first,
        "Qu'avez-vous fait concrètement, avec qui et avec quels outils, et à quoi avez-vous vu "
        "que c'était réussi ?",
    )
