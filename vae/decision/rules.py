"""Pure rules of the decision: the grid's results, the avis, the recours window, the national
decision, and what a proclamation issues. No session, no request, no clock (``now`` is passed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from vae.referentiel.model import Certification
from vae.rules import CertificationResult, evaluate_certification

# Prerequisites of the CQP the référent records on a parcours (which ones apply to a route is
# a setting: CQP_PREREQUISITES_FORMATION / CQP_PREREQUISITES_VAE).
PREREQUISITE_LABELS: dict[str, str] = {
    "pass": "Formation Pass suivie intégralement",
    "premss": "Formation Prem'ss suivie intégralement",
}
PARIS = ZoneInfo("Europe/Paris")
REASON_MAX = 4000  # characters of a national decision's reason (and of any agenda text)


def paris_day(moment: datetime) -> date:
    """The day in Paris (naive datetimes are UTC, the storage convention)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def fr_paris(moment: datetime, *, seconds: bool = False) -> str:
    """« 25/02/2027 à 17:00 », Paris time (naive datetimes are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M" + (":%S" if seconds else ""))


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


# --- the signature -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignerFacts:
    """One member of a jury professionnel session, as far as the signature is concerned."""

    user_id: int
    quality: str  # "president" | "expert"
    branche: str | None  # the branche de législation of the member's organisation
    organisation_id: int


def required_signers(
    members: Iterable[SignerFacts],
    candidate_branche: str | None,
    candidate_organisation_id: int,
) -> frozenset[int]:
    """Who signs a candidate's avis: the président(s) and the experts métier of the candidate's
    branche, never a member of the candidate's own organisme. An expert of another branche sits
    for other candidates of the session, not for this one."""
    return frozenset(
        m.user_id
        for m in members
        if m.organisation_id != candidate_organisation_id
        and (
            m.quality == "president"
            or (m.quality == "expert" and m.branche is not None and m.branche == candidate_branche)
        )
    )


# --- the recours ---------------------------------------------------------------------------


def recours_deadline(signed_at: datetime, days: int) -> datetime:
    return signed_at + timedelta(days=days)


def recours_open(*, signed_at: datetime | None, now: datetime, days: int) -> bool:
    """A recours may be filed once the avis is signed, until the end of the period."""
    return signed_at is not None and now <= recours_deadline(signed_at, days)


@dataclass(frozen=True, slots=True)
class RecoursStatus:
    """Where the candidate's recours stands: ``unsigned`` (no period before the final
    signature), ``filed``, ``waived``, ``open`` (until ``deadline``) or ``expired``."""

    state: str
    deadline: datetime | None


def recours_status(
    *, signed_at: datetime | None, filed: bool, waived: bool, now: datetime, days: int
) -> RecoursStatus:
    deadline = recours_deadline(signed_at, days) if signed_at is not None else None
    if waived:
        return RecoursStatus("waived", deadline)
    if filed:
        return RecoursStatus("filed", deadline)
    if deadline is None:
        return RecoursStatus("unsigned", None)
    return RecoursStatus("open" if now <= deadline else "expired", deadline)


# --- the national decision -----------------------------------------------------------------


def reason_problem(reason: str) -> str | None:
    """A reason is read at the session and printed in the procès-verbal: it stays short."""
    if len(reason) > REASON_MAX:
        return f"Le motif ne doit pas dépasser {REASON_MAX} caractères ({len(reason)} saisis)."
    return None


def decision_problem(*, avis_favourable: bool, validated: bool, reason: str) -> str | None:
    """The national jury is sovereign, but a decision that differs from the avis needs a
    reason."""
    too_long = reason_problem(reason)
    if too_long:
        return too_long
    if validated != avis_favourable and not reason.strip():
        avis = "favorable" if avis_favourable else "défavorable"
        return f"L'avis du jury professionnel est {avis} : motivez la décision qui s'en écarte."
    return None


def schedule_problem(*, session_day: date, signed_at: datetime) -> str | None:
    """A dossier goes to a national session held on or after the day its avis was signed."""
    signed_on = paris_day(signed_at)
    if session_day < signed_on:
        return (
            f"La session nationale du {session_day:%d/%m/%Y} précède la signature de l'avis "
            f"(le {signed_on:%d/%m/%Y}) : choisissez une session ultérieure."
        )
    return None


def proclamation_day_problem(*, session_day: date, now: datetime) -> str | None:
    """A session is proclaimed on its day (in Paris) or later, never before."""
    if paris_day(now) < session_day:
        return (
            f"La session nationale a lieu le {session_day:%d/%m/%Y} : "
            "la proclamation se fait ce jour-là ou après."
        )
    return None


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What a proclamation needs to know about one dossier on the agenda."""

    candidate: str
    avis_signed: bool
    evaluated_blocs: tuple[str, ...]  # the blocs the jury professionnel gave an avis on
    decided_blocs: frozenset[str]
    recours_deadline: datetime | None = None  # end of the recours period (avis signed)
    recours_closed: bool = False  # a recours filed or waived: the period is over
    signature_broken: bool = False  # the avis' content changed since it was signed


def proclamation_problems(
    dossiers: Iterable[DossierFacts], *, now: datetime | None = None
) -> list[str]:
    """Everything that stops a proclamation, one French line each (empty: it may proceed).

    ``now`` checks the recours periods: a dossier is proclaimed once its period has ended, or
    once the candidate has filed a recours or waived it. The portal always passes it."""
    problems: list[str] = []
    count = 0
    for dossier in dossiers:
        count += 1
        name = dossier.candidate
        if not dossier.avis_signed:
            problems.append(f"{name} : l'avis du jury professionnel n'est pas signé.")
            continue
        if dossier.signature_broken:
            problems.append(
                f"{name} : signature de l'avis rompue, le contenu a changé depuis la signature."
            )
            continue
        deadline = dossier.recours_deadline
        pending = deadline is not None and not dossier.recours_closed
        if pending and now is not None and deadline is not None and now <= deadline:
            problems.append(
                f"{name} : le délai de recours court jusqu'au {fr_paris(deadline)} "
                "(ni recours ni renonciation)."
            )
        missing = [b for b in dossier.evaluated_blocs if b not in dossier.decided_blocs]
        if missing:
            problems.append(f"{name} : pas de décision pour {', '.join(missing)}.")
    if count == 0:
        problems.append("Aucun dossier n'est inscrit à cette session.")
    return problems


def held_at_proclamation(
    *, snapshot: Collection[str], certified: Collection[str], refused: Collection[str]
) -> frozenset[str]:
    """The blocs a proclamation counts as held: those the evaluation did not evaluate (its
    snapshot) and those of the holder's non-revoked CCPs. A bloc the national jury decided "non
    validé" is held only through a real CCP: only a CCP is acquired for good."""
    return (frozenset(snapshot) - frozenset(refused)) | frozenset(certified)


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
