"""What the carnet says about each competence and bloc: pure functions, no I/O.

A competence counts as attested in the carnet only when both the tutor and the manager have
signed an attestation with the verdict "maîtrisée" whose observed criteria meet the 80 % rule.
Disagreements (verdict vs criteria, tutor vs manager) are reported plainly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from vae.referentiel.model import Bloc, Competence
from vae.rules import required_count, threshold_met

MAITRISEE = "maitrisee"
ROLE_NAMES = {"tuteur": "Le tuteur", "manager": "Le manager"}
VERDICT_NAMES = {"maitrisee": "maîtrisée", "en_cours": "en cours", "non_observee": "non observée"}


@dataclass(frozen=True, slots=True)
class Signed:
    """The content of the latest signed attestation of one attester."""

    role: str
    verdict: str
    observed: frozenset[str]


@dataclass(frozen=True, slots=True)
class AttesterStatus:
    role: str
    verdict: str
    observed: int
    total: int
    required: int

    @property
    def criteria_met(self) -> bool:
        return threshold_met(self.observed, self.total)

    @property
    def attests(self) -> bool:
        return self.verdict == MAITRISEE and self.criteria_met

    @property
    def inconsistency(self) -> str | None:
        who = ROLE_NAMES[self.role]
        if self.verdict == MAITRISEE and not self.criteria_met:
            return (
                f"{who} atteste « maîtrisée » mais n'a observé que {self.observed} critère(s) "
                f"sur {self.total} (il en faut {self.required}) : verdict et critères divergent."
            )
        if self.verdict != MAITRISEE and self.criteria_met:
            return (
                f"{who} indique « {VERDICT_NAMES.get(self.verdict, self.verdict)} » alors que "
                f"{self.observed} critère(s) sur {self.total} sont observés : verdict et critères "
                "divergent."
            )
        return None


@dataclass(frozen=True, slots=True)
class CompetenceStatus:
    key: str
    number: str
    tutor: AttesterStatus | None
    manager: AttesterStatus | None

    @property
    def attested_by(self) -> int:
        return sum(1 for s in (self.tutor, self.manager) if s is not None and s.attests)

    @property
    def attested(self) -> bool:
        return self.attested_by == 2

    @property
    def disagreement(self) -> str | None:
        if self.tutor is None or self.manager is None:
            return None
        if self.tutor.verdict != self.manager.verdict:
            return (
                "Le tuteur et le manager ne sont pas d'accord : tuteur « "
                f"{VERDICT_NAMES.get(self.tutor.verdict)} », manager « "
                f"{VERDICT_NAMES.get(self.manager.verdict)} »."
            )
        if self.tutor.attests != self.manager.attests:
            return "Le tuteur et le manager n'arrivent pas au même résultat sur les critères."
        return None

    @property
    def messages(self) -> tuple[str, ...]:
        found = [s.inconsistency for s in (self.tutor, self.manager) if s is not None]
        found.append(self.disagreement)
        return tuple(m for m in found if m)

    @property
    def summary(self) -> str:
        if self.attested:
            return "Attestée par le tuteur et le manager"
        if self.attested_by == 1:
            who = "le tuteur" if self.tutor is not None and self.tutor.attests else "le manager"
            return f"Attestée par {who} seulement"
        return "Pas encore attestée"


def _attester(role: str, competence: Competence, signed: Signed | None) -> AttesterStatus | None:
    if signed is None:
        return None
    keys = competence.criterion_keys
    return AttesterStatus(
        role=role,
        verdict=signed.verdict,
        observed=sum(1 for k in keys if k in signed.observed),
        total=len(keys),
        required=required_count(len(keys)),
    )


def competence_status(
    competence: Competence, *, tutor: Signed | None, manager: Signed | None
) -> CompetenceStatus:
    return CompetenceStatus(
        key=competence.key,
        number=competence.number,
        tutor=_attester("tuteur", competence, tutor),
        manager=_attester("manager", competence, manager),
    )


@dataclass(frozen=True, slots=True)
class BlocProgress:
    key: str
    held: bool
    total: int
    both: int
    one: int
    none: int
    required: int
    competences: tuple[CompetenceStatus, ...]

    @property
    def shortfall(self) -> int:
        return 0 if self.held else max(0, self.required - self.both)

    @property
    def explanation(self) -> str:
        if self.held:
            return f"Bloc {self.key} déjà détenu : aucune attestation n'est nécessaire."
        counts = (
            f"{self.both} compétence(s) attestée(s) par le tuteur et le manager, {self.one} par "
            f"un seul, {self.none} par aucun"
        )
        if self.shortfall == 0:
            return f"{counts} : la règle des 80 % ({self.required} sur {self.total}) est atteinte."
        return (
            f"{counts} ; la règle des 80 % demande {self.required} compétences sur {self.total} : "
            f"encore {self.shortfall} à faire attester par les deux."
        )


def bloc_progress(
    bloc: Bloc,
    signed: Mapping[tuple[str, str], Signed],
    *,
    held: bool = False,
) -> BlocProgress:
    """Progress of a bloc from the latest signed attestations, keyed by (competence, role)."""
    statuses = tuple(
        competence_status(
            c, tutor=signed.get((c.key, "tuteur")), manager=signed.get((c.key, "manager"))
        )
        for c in bloc.competences
    )
    both = sum(1 for s in statuses if s.attested)
    one = sum(1 for s in statuses if s.attested_by == 1)
    return BlocProgress(
        key=bloc.key,
        held=held,
        total=len(statuses),
        both=both,
        one=one,
        none=len(statuses) - both - one,
        required=required_count(len(statuses)),
        competences=statuses,
    )


def observed_keys(competence: Competence, submitted: Collection[str]) -> list[str]:
    """The submitted criterion keys that belong to the competence, in référentiel order."""
    wanted = set(submitted)
    return [k for k in competence.criterion_keys if k in wanted]
