"""Pure rules of the livret 2: limits, what submission needs, the coverage matrix."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from vae.referentiel.model import Certification
from vae.rules import required_count

# About three pages per situation (≈ 3,000 characters a page); a rubric may hold more while
# the candidate drafts, but never more than MAX_RUBRIC.
PAGE_CHARS = 3000
TARGET_PAGES = 3
MAX_RUBRIC = 20_000
MAX_SHORT = 300
RUBRICS = ("context", "actions", "means", "collaborators", "result", "learnings")
REQUIRED_FOR_SUBMISSION = {
    "title": "le titre",
    "period_from": "le début de la période",
    "organisme_service": "l'organisme et le service",
    "context": "le contexte",
    "actions": "ce que j'ai fait",
    "result": "le résultat",
}


@dataclass(frozen=True, slots=True)
class SituationFacts:
    """What the rules need to know about a situation."""

    id: int
    bloc_key: str
    title: str
    competence_keys: tuple[str, ...]
    missing: tuple[str, ...]  # labels of required rubrics left empty


def submission_problems(
    certification: Certification,
    situations: Sequence[SituationFacts],
    *,
    held_blocs: Collection[str],
    profile_complete: bool,
    min_situations: int = 1,
    max_situations: int = 2,
) -> list[str]:
    """French reasons why the livret cannot be submitted yet (empty when it can)."""
    problems: list[str] = []
    if not profile_complete:
        problems.append("Renseignez votre emploi actuel et votre parcours professionnel.")
    for cert_bloc in certification.blocs:
        if cert_bloc.key in held_blocs:
            continue
        mine = [s for s in situations if s.bloc_key == cert_bloc.key]
        if len(mine) < min_situations:
            problems.append(
                f"Bloc {cert_bloc.key} : décrivez au moins une situation significative."
            )
        elif len(mine) > max_situations:
            problems.append(f"Bloc {cert_bloc.key} : pas plus de {max_situations} situations.")
        for situation in mine:
            where = f"Situation « {situation.title or 'sans titre'} » ({cert_bloc.key})"
            if situation.missing:
                problems.append(f"{where} : complétez {', '.join(situation.missing)}.")
            if not situation.competence_keys:
                problems.append(f"{where} : indiquez les compétences qu'elle montre.")
    return problems


@dataclass(frozen=True, slots=True)
class CompetenceCoverage:
    key: str
    number: str
    label: str
    situations: tuple[tuple[int, str], ...]  # (id, title) of the situations claiming it
    carnet: str  # what the carnet says (summary), "" when there is no carnet evidence

    @property
    def shown_by_livret(self) -> bool:
        return bool(self.situations)


@dataclass(frozen=True, slots=True)
class BlocCoverage:
    key: str
    code: str
    title: str
    held: bool
    competences: tuple[CompetenceCoverage, ...]

    @property
    def shown(self) -> int:
        return sum(1 for c in self.competences if c.shown_by_livret)

    @property
    def required(self) -> int:
        return required_count(len(self.competences))

    @property
    def shortfall(self) -> int:
        return 0 if self.held else max(0, self.required - self.shown)

    @property
    def explanation(self) -> str:
        if self.held:
            return "Bloc déjà détenu : rien à démontrer."
        total = len(self.competences)
        text = f"Vos situations montrent {self.shown} compétence(s) sur {total}"
        if self.shortfall == 0:
            return f"{text} : de quoi viser la règle des 80 % ({self.required} sur {total})."
        return (
            f"{text} ; la règle des 80 % en demande {self.required} : encore {self.shortfall} "
            "à illustrer."
        )


def coverage(
    certification: Certification,
    situations: Sequence[SituationFacts],
    *,
    held_blocs: Collection[str],
    carnet: Mapping[str, str] | None = None,
) -> list[BlocCoverage]:
    """For each bloc and competence: the situations claiming it and the carnet's evidence."""
    carnet = carnet or {}
    result = []
    for cert_bloc in certification.blocs:
        competences = tuple(
            CompetenceCoverage(
                key=c.key,
                number=c.number,
                label=c.label,
                situations=tuple(
                    (s.id, s.title or "Situation sans titre")
                    for s in situations
                    if s.bloc_key == cert_bloc.key and c.key in s.competence_keys
                ),
                carnet=carnet.get(c.key, ""),
            )
            for c in cert_bloc.bloc.competences
        )
        result.append(
            BlocCoverage(
                cert_bloc.key,
                cert_bloc.code,
                cert_bloc.title,
                cert_bloc.key in held_blocs,
                competences,
            )
        )
    return result
