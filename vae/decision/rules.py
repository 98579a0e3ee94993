"""Pure rules of the decision: the grid's results, the avis, the recours window, the national
decision, and what a proclamation issues. No session, no request, no clock (``now`` is passed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from vae.referentiel.model import Certification
from vae.rules import CertificationResult, evaluate_certification

# Prerequisites of the CQP the référent records on a parcours (which ones apply to a route is
# a setting: CQP_PREREQUISITES_FORMATION / CQP_PREREQUISITES_VAE).
PREREQUISITE_LABELS: dict[str, str] = {
    "pass": "Formation Pass suivie intégralement",
    "premss": "Formation Prem'ss suivie intégralement",
}


# --- the grid ------------------------------------------------------------------------------


def validated_criteria(marks: Mapping[str, bool]) -> frozenset[str]:
    return frozenset(key for key, validated in marks.items() if validated)


def grid_result(
    certification: Certification, marks: Mapping[str, bool], held_blocs: Iterable[str]
) -> CertificationResult:
    """What the 80 % rules make of the grid as it stands (criteria not marked count as not
    validated); held blocs are validated and not evaluated."""
    return evaluate_certification(certification, validated_criteria(marks), held_blocs=held_blocs)


def unmarked_criteria(
    certification: Certification, marks: Mapping[str, bool], held_blocs: Collection[str]
) -> dict[str, tuple[str, ...]]:
    """Per evaluated bloc, the criteria not yet marked validated or not (empty when complete)."""
    missing: dict[str, tuple[str, ...]] = {}
    for cert_bloc in certification.blocs:
        if cert_bloc.key in held_blocs:
            continue
        keys = tuple(
            criterion.key
            for competence in cert_bloc.bloc.competences
            for criterion in competence.criteria
            if criterion.key not in marks
        )
        if keys:
            missing[cert_bloc.key] = keys
    return missing


# --- the avis ------------------------------------------------------------------------------


def avis_problems(
    *,
    computed: bool,
    favourable: bool | None,
    justification: str,
    recommendations: str,
) -> dict[str, str]:
    """French messages per field of one bloc's avis (empty when the avis may be signed).

    The avis follows the computed result unless the jury justifies departing from it;
    préconisations are required whenever the avis is not favourable.
    """
    problems: dict[str, str] = {}
    if favourable is None:
        problems["favourable"] = "Indiquez si l'avis est favorable ou défavorable."
        return problems
    if favourable != computed and not justification.strip():
        result = "validé" if computed else "non validé"
        problems["justification"] = (
            f"La grille donne ce bloc {result} : justifiez l'avis qui s'en écarte."
        )
    if not favourable and not recommendations.strip():
        problems["recommendations"] = (
            "Les préconisations sont obligatoires pour un bloc qui n'est pas validé."
        )
    return problems


# --- the recours ---------------------------------------------------------------------------


def recours_deadline(signed_at: datetime, days: int) -> datetime:
    return signed_at + timedelta(days=days)


def recours_open(*, signed_at: datetime | None, now: datetime, days: int) -> bool:
    """A recours may be filed once the avis is signed, until the end of the period."""
    return signed_at is not None and now <= recours_deadline(signed_at, days)


# --- the national decision -----------------------------------------------------------------


def decision_problem(*, avis_favourable: bool, validated: bool, reason: str) -> str | None:
    """The national jury is sovereign, but a decision that differs from the avis needs a
    reason."""
    if validated != avis_favourable and not reason.strip():
        avis = "favorable" if avis_favourable else "défavorable"
        return f"L'avis du jury professionnel est {avis} : motivez la décision qui s'en écarte."
    return None


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What a proclamation needs to know about one dossier on the agenda."""

    candidate: str
    avis_signed: bool
    evaluated_blocs: tuple[str, ...]  # the blocs the jury professionnel gave an avis on
    decided_blocs: frozenset[str]


def proclamation_problems(dossiers: Iterable[DossierFacts]) -> list[str]:
    """Everything that stops a proclamation, one French line each (empty: it may proceed)."""
    problems: list[str] = []
    count = 0
    for dossier in dossiers:
        count += 1
        if not dossier.avis_signed:
            problems.append(f"{dossier.candidate} : l'avis du jury professionnel n'est pas signé.")
            continue
        missing = [b for b in dossier.evaluated_blocs if b not in dossier.decided_blocs]
        if missing:
            problems.append(f"{dossier.candidate} : pas de décision pour {', '.join(missing)}.")
    if count == 0:
        problems.append("Aucun dossier n'est inscrit à cette session.")
    return problems


@dataclass(frozen=True, slots=True)
class Issuance:
    """What a proclamation issues for one dossier."""

    ccp_blocs: tuple[str, ...]  # one CCP each, in the certification's order
    acquired_blocs: tuple[str, ...]  # every bloc the candidate now holds for this CQP
    missing_blocs: tuple[str, ...]
    cqp: bool
    cqp_withheld_reason: str | None

    @property
    def partial(self) -> bool:
        return not self.cqp


def issuance(
    certification: Certification,
    *,
    decided_validated: Collection[str],
    held_blocs: Collection[str],
    missing_prerequisites: Collection[str] = (),
) -> Issuance:
    """The CCPs and the CQP a proclamation issues.

    ``held_blocs`` are the blocs held from before, from any certification (GRU and MDR count for
    both CQPs); a held bloc gets no new CCP. The CQP needs every bloc and every prerequisite:
    when a prerequisite is missing the CCPs are issued and the CQP is withheld with the reason.
    """
    ccp = tuple(
        key for key in certification.bloc_keys if key in decided_validated and key not in held_blocs
    )
    acquired = tuple(
        key for key in certification.bloc_keys if key in decided_validated or key in held_blocs
    )
    missing = tuple(key for key in certification.bloc_keys if key not in acquired)
    withheld: str | None = None
    if not missing and missing_prerequisites:
        labels = [PREREQUISITE_LABELS.get(k, k) for k in missing_prerequisites]
        withheld = (
            f"CQP {certification.short} non délivré : prérequis manquant(s) : "
            f"{' ; '.join(labels)}. Les CCP sont délivrés."
        )
    return Issuance(
        ccp_blocs=ccp,
        acquired_blocs=acquired,
        missing_blocs=missing,
        cqp=not missing and not missing_prerequisites,
        cqp_withheld_reason=withheld,
    )
