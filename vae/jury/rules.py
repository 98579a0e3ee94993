"""Pure rules on the jury calendar (months and exam window are settings, passed in)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date


def calendar_problem(day: date, *, months: Collection[int], exam_days: int) -> str | None:
    """A French message when a jury professionnel date falls outside the published calendar."""
    if day.month not in months:
        names = ", ".join(MONTHS_FR[m] for m in sorted(months))
        return f"Les sessions de jury professionnel ont lieu en {names}."
    if day.day > exam_days:
        return f"Les épreuves se déroulent pendant les {exam_days} premiers jours du mois."
    return None


MONTHS_FR = {
    1: "janvier",
    2: "février",
    3: "mars",
    4: "avril",
    5: "mai",
    6: "juin",
    7: "juillet",
    8: "août",
    9: "septembre",
    10: "octobre",
    11: "novembre",
    12: "décembre",
}


# --- composition of a jury professionnel ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberFacts:
    user_id: int
    name: str
    quality: str  # "president" | "expert"
    organisation_id: int
    certifying_body: bool  # Ucanss or a delegate (Institut 4.10, a caisse nationale)
    branche: str | None
    trained_on: date | None  # mandatory jury training
    civility: str  # "Mme" | "M."


@dataclass(frozen=True, slots=True)
class CandidateFacts:
    parcours_id: int
    name: str
    employer_id: int
    employer_name: str
    branche: str | None
    management_line: frozenset[int]  # user ids of the candidate's managers (N+1, N+2…)
    tutor_id: int | None
    trainer_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Problem:
    rule: str
    message: str




def member_problems(member: MemberFacts) -> list[Problem]:
    """What makes a person unfit to sit on any jury professionnel."""
    found = []
    if member.trained_on is None:
        found.append(
            Problem(
                "formation",
                f"{member.name} n'a pas de date de formation obligatoire des jurys enregistrée.",
            )
        )
    if member.quality == "president" and not member.certifying_body:
        found.append(
            Problem(
                "president",
                f"{member.name} ne peut pas présider : le président vient de l'organisme "
                "certificateur (Ucanss ou son délégataire : Institut 4.10, une caisse nationale).",
            )
        )
    return found


def conflicts(member: MemberFacts, candidate: CandidateFacts) -> list[Problem]:
    """Why ``member`` may not evaluate ``candidate`` (independence of the jury)."""
    found = []
    if member.organisation_id == candidate.employer_id:
        found.append(
            Problem(
                "employeur",
                f"{member.name} appartient à l'organisme employeur de {candidate.name} "
                f"({candidate.employer_name}).",
            )
        )
    if member.user_id in candidate.management_line:
        found.append(
            Problem(
                "hierarchie",
                f"{member.name} fait partie de la ligne managériale de {candidate.name}.",
            )
        )
    if member.user_id == candidate.tutor_id or member.user_id in candidate.trainer_ids:
        found.append(
            Problem("tuteur", f"{member.name} a été tuteur ou formateur de {candidate.name}.")
        )
    return found


def branch_gap(members: Sequence[MemberFacts], candidate: CandidateFacts) -> Problem | None:
    """A candidate needs at least one expert métier of their branche de législation."""
    if any(m.quality == "expert" and m.branche == candidate.branche for m in members):
        return None
    return Problem(
        "branche",
        f"Aucun expert métier de la branche {candidate.branche or '?'} pour {candidate.name}.",
    )


@dataclass(frozen=True, slots=True)
class Review:
    problems: tuple[Problem, ...]
    warnings: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def review(members: Sequence[MemberFacts], candidates: Sequence[CandidateFacts]) -> Review:
    """Every rule on a whole session: the administrator's list of conflicts."""
    problems: list[Problem] = []
    if not any(m.quality == "president" for m in members):
        problems.append(Problem("president", "La session n'a pas de président(e)."))
    for member in members:
        problems.extend(member_problems(member))
        for candidate in candidates:
            problems.extend(conflicts(member, candidate))
    for candidate in candidates:
        gap = branch_gap(members, candidate)
        if gap is not None:
            problems.append(gap)
    warnings = []
    civilities = {m.civility for m in members}
    if len(members) >= 2 and len(civilities) == 1:
        warnings.append(
            "Le jury n'est composé que de "
            + ("femmes" if civilities == {"Mme"} else "hommes")
            + " : recherchez si possible un jury mixte."
        )
    return Review(tuple(problems), tuple(warnings))
