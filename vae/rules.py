"""The certification rules, as pure functions (no I/O, no clock, no session).

- a competence is acquired when at least 80 % of its criteria are validated;
- a bloc is validated when at least 80 % of its competences are acquired;
- each validated bloc gives a CCP, acquired for good;
- the CQP is delivered when every bloc of the certification is validated, blocs already held
  (from an earlier parcours or, for a shared bloc, from the other CQP) included.

Thresholds are computed with integers only: ``5 * validated >= 4 * total``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from vae.referentiel.model import Bloc, Certification, Competence

THRESHOLD_NUMERATOR = 4
THRESHOLD_DENOMINATOR = 5  # 4/5 = 80 %


def threshold_met(validated: int, total: int) -> bool:
    """True when ``validated`` out of ``total`` reaches 80 %, in integer arithmetic."""
    _check_counts(validated, total)
    return THRESHOLD_DENOMINATOR * validated >= THRESHOLD_NUMERATOR * total


def required_count(total: int) -> int:
    """The smallest number out of ``total`` that reaches 80 % (ceil(4·total / 5))."""
    if total <= 0:
        raise ValueError("total must be positive")
    return (THRESHOLD_NUMERATOR * total + THRESHOLD_DENOMINATOR - 1) // THRESHOLD_DENOMINATOR


def _check_counts(validated: int, total: int) -> None:
    if total <= 0:
        raise ValueError("total must be positive")
    if not 0 <= validated <= total:
        raise ValueError(f"validated ({validated}) must lie between 0 and total ({total})")


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count <= 1 else plural}"


@dataclass(frozen=True, slots=True)
class CompetenceResult:
    key: str
    number: str
    validated: int
    total: int
    required: int
    acquired: bool
    missing_criteria: tuple[str, ...]

    @property
    def shortfall(self) -> int:
        """How many more validated criteria the competence needs (0 when acquired)."""
        return max(0, self.required - self.validated)

    @property
    def explanation(self) -> str:
        counts = f"{_plural(self.validated, 'critère validé', 'critères validés')} sur {self.total}"
        if self.acquired:
            return f"{self.number} acquise : {counts} (au moins {self.required} requis, 80 %)."
        return (
            f"{self.number} non acquise : {counts} ; il en faut au moins {self.required} (80 %), "
            f"il manque {_plural(self.shortfall, 'critère validé', 'critères validés')}."
        )


@dataclass(frozen=True, slots=True)
class BlocResult:
    key: str
    held: bool
    acquired: int
    total: int
    required: int
    validated: bool
    competences: tuple[CompetenceResult, ...]

    @property
    def shortfall(self) -> int:
        """How many more acquired competences the bloc needs (0 when validated or held)."""
        return 0 if self.validated else max(0, self.required - self.acquired)

    @property
    def missing_competences(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.competences if not c.acquired)

    @property
    def explanation(self) -> str:
        if self.held:
            return f"Bloc {self.key} déjà détenu (CCP acquis définitivement) : non évalué."
        counts = (
            f"{_plural(self.acquired, 'compétence acquise', 'compétences acquises')} "
            f"sur {self.total}"
        )
        if self.validated:
            return f"Bloc {self.key} validé : {counts} (au moins {self.required} requises, 80 %)."
        missing = _plural(self.shortfall, "compétence acquise", "compétences acquises")
        return (
            f"Bloc {self.key} non validé : {counts} ; il en faut au moins {self.required} "
            f"(80 %), il manque {missing}."
        )


@dataclass(frozen=True, slots=True)
class CertificationResult:
    code: str
    short: str
    blocs: tuple[BlocResult, ...]

    @property
    def validated_blocs(self) -> tuple[str, ...]:
        """Blocs validated in this evaluation: one CCP each (held blocs excluded)."""
        return tuple(b.key for b in self.blocs if b.validated and not b.held)

    @property
    def held_blocs(self) -> tuple[str, ...]:
        return tuple(b.key for b in self.blocs if b.held)

    @property
    def missing_blocs(self) -> tuple[str, ...]:
        return tuple(b.key for b in self.blocs if not b.validated)

    @property
    def cqp(self) -> bool:
        return not self.missing_blocs

    @property
    def explanation(self) -> str:
        held = f" (dont {', '.join(self.held_blocs)} déjà détenus)" if self.held_blocs else ""
        if self.cqp:
            return f"CQP {self.short} délivré : les {len(self.blocs)} blocs sont validés{held}."
        ccp = ", ".join(self.validated_blocs) or "aucun"
        return (
            f"CQP {self.short} non délivré : {len(self.blocs) - len(self.missing_blocs)} bloc(s) "
            f"sur {len(self.blocs)} validé(s){held} ; manquant(s) : "
            f"{', '.join(self.missing_blocs)}. CCP délivré(s) : {ccp}."
        )


def evaluate_competence(competence: Competence, validated: Collection[str]) -> CompetenceResult:
    """Result of one competence given the keys of the criteria validated (others are ignored)."""
    keys = competence.criterion_keys
    count = sum(1 for key in keys if key in validated)
    total = len(keys)
    return CompetenceResult(
        key=competence.key,
        number=competence.number,
        validated=count,
        total=total,
        required=required_count(total),
        acquired=threshold_met(count, total),
        missing_criteria=tuple(key for key in keys if key not in validated),
    )


def evaluate_bloc(bloc: Bloc, validated: Collection[str], *, held: bool = False) -> BlocResult:
    """Result of one bloc. A held bloc (earlier CCP) is validated and not evaluated."""
    total = len(bloc.competences)
    if held:
        return BlocResult(bloc.key, True, total, total, required_count(total), True, ())
    competences = tuple(evaluate_competence(c, validated) for c in bloc.competences)
    acquired = sum(1 for c in competences if c.acquired)
    return BlocResult(
        key=bloc.key,
        held=False,
        acquired=acquired,
        total=total,
        required=required_count(total),
        validated=threshold_met(acquired, total),
        competences=competences,
    )


def evaluate_certification(
    certification: Certification,
    validated: Collection[str],
    *,
    held_blocs: Iterable[str] = (),
) -> CertificationResult:
    """Result of a whole certification.

    ``held_blocs`` are bloc keys already held, from any certification: since a shared bloc
    (GRU, MDR) is the same bloc in both CQPs, holding it from one counts for the other. Keys of
    blocs that are not part of this certification are ignored.
    """
    held = set(held_blocs)
    return CertificationResult(
        code=certification.code,
        short=certification.short,
        blocs=tuple(
            evaluate_bloc(cb.bloc, validated, held=cb.key in held) for cb in certification.blocs
        ),
    )


def cqp_delivered(certification: Certification, validated_blocs: Iterable[str]) -> bool:
    """True when every bloc of the certification is among ``validated_blocs`` (any origin)."""
    have = set(validated_blocs)
    return all(key in have for key in certification.bloc_keys)
