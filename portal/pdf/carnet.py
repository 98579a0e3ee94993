"""The carnet de suivi as a PDF: cover, then per bloc and competence the pré-positionnement, both
attestations with their signature evidence, then the milestones.

Pure rendering of a ``CarnetData`` (``carnet.queries.load_carnet``): no query is made here. The
caller checks every signed version against its content (``carnet.service.check_signature``)
and passes the results, so a tampered attestation reads "Signature rompue" in the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reportlab.platypus import Flowable, PageBreak

from carnet.models import (
    ATTESTER_LABELS,
    MILESTONE_LABELS,
    SELF_LEVEL_LABELS,
    SITUATION_LABELS,
    VERDICT_LABELS,
    AttestationVersion,
    MilestoneKind,
)
from carnet.queries import CarnetData
from carnet.rules import AttesterStatus, BlocProgress, CompetenceStatus
from carnet.service import SignatureCheck
from portal.pdf.base import (
    CONTENT_WIDTH,
    STYLES,
    DocInfo,
    Heading,
    boxed,
    esc,
    fr_date,
    fr_datetime,
    grid,
    key_values,
    para,
    render,
)
from vae.parcours.models import ROUTE_LABELS
from vae.people.models import User
from vae.referentiel.model import CertificationBloc, Competence

TITLE = "Carnet de suivi des compétences"
ROLES = (("tuteur", "du tuteur"), ("manager", "du manager"))
SELF_ASSESSMENT_NOTICE = (
    "Le pré-positionnement est l'auto-évaluation du candidat : il n'est pas une évaluation et "
    "n'entre pas dans le calcul de la progression."
)
RULE_NOTICE = (
    "Une compétence est attestée dans le carnet lorsque le tuteur et le manager l'attestent "
    "tous deux « maîtrisée » et que les critères qu'ils ont observés atteignent la règle des "
    "80 %. Chaque signature est liée à son contenu par une empreinte SHA-256 : le contrôle "
    "indique si le contenu enregistré est toujours celui qui a été signé."
)

Checks = dict[int, SignatureCheck]


def carnet_pdf(data: CarnetData, *, generated_at: datetime, signature_checks: Checks) -> bytes:
    """Render the carnet. ``signature_checks`` maps AttestationVersion.id → its check, for
    every signed version; a missing one is shown as "contrôle non effectué"."""
    certification = data.certification
    candidate = _person(data.parcours.candidate)
    info = DocInfo(
        title=f"{TITLE} – {candidate} – CQP {certification.short}",
        subject=f"{TITLE} : {certification.title} ({certification.code})",
        footer=f"{candidate} · CQP {certification.short}",
        header=f"{TITLE} · CQP {certification.short} ({certification.code})",
        keywords=("carnet de suivi", f"CQP {certification.short}", certification.code),
    )
    story: list[Flowable] = _cover(data, generated_at)
    for cert_bloc in certification.blocs:
        story.append(PageBreak())
        story.extend(_bloc(data, cert_bloc, signature_checks))
    story.append(PageBreak())
    story.extend(_milestones(data))
    return render(story, info)


def _label(labels: Mapping[Any, str], value: str) -> str:
    """The French label of a stored enum value; the raw value if unknown (never fails)."""
    return labels.get(value, value)


def _person(user: User | None, *, job: bool = False) -> str:
    if user is None:
        return "non désigné"
    name = f"{user.civility} {user.full_name}"
    return f"{name} ({user.job_title})" if job and user.job_title else name


# --- cover ---------------------------------------------------------------------------------


def _cover(data: CarnetData, generated_at: datetime) -> list[Flowable]:
    parcours, certification = data.parcours, data.certification
    employer = parcours.employer
    held = [
        f"{esc(h.bloc_key)} : {esc(h.origin)}"
        + (f" (obtenu le {fr_date(h.obtained_on)})" if h.obtained_on else "")
        for h in parcours.held_blocs
    ]
    rows = [
        ("Candidat", esc(_person(parcours.candidate, job=True))),
        (
            "Certification",
            f"{esc(certification.title)} ({esc(certification.short)}), "
            f"{esc(certification.code)}, niveau {certification.level}",
        ),
        ("Référentiel", f"version {esc(data.referentiel.version)}"),
        ("Voie d'accès", esc(_label(ROUTE_LABELS, parcours.route))),
        ("Employeur", f"{esc(employer.name)} – branche {esc(employer.branche or 'non précisée')}"),
        ("Tuteur", esc(_person(parcours.tutor, job=True))),
        ("Manager", esc(_person(parcours.manager, job=True))),
        ("Début du parcours", fr_date(parcours.start_date)),
        (
            "Remise du carnet",
            fr_date(data.carnet.handed_over_on) if data.carnet else "carnet non remis",
        ),
        ("Blocs déjà détenus", "<br/>".join(held) or "aucun"),
        ("Document généré le", fr_datetime(generated_at)),
    ]
    return [
        Heading(TITLE, STYLES.title, outline="Couverture", level=0),
        para(f"{esc(certification.title)} – {esc(_person(parcours.candidate))}", STYLES.subtitle),
        key_values(rows),
        para(f"<b>{SELF_ASSESSMENT_NOTICE}</b>", STYLES.note),
        para(RULE_NOTICE, STYLES.note),
        para("Progression par bloc", STYLES.h2),
        _summary(data),
    ]


def _summary(data: CarnetData) -> Flowable:
    rows = []
    for cert_bloc in data.certification.blocs:
        progress = data.progress[cert_bloc.key]
        if progress.held:
            counts, rule = ["—", "—", "—"], "bloc déjà détenu"
        else:
            counts = [str(progress.both), str(progress.one), str(progress.none)]
            rule = f"{progress.required} sur {progress.total} requises" + (
                " : atteinte" if progress.shortfall == 0 else f" : encore {progress.shortfall}"
            )
        rows.append(
            [
                f"<b>{esc(cert_bloc.key)}</b><br/>{esc(cert_bloc.code)}",
                esc(cert_bloc.title),
                *counts,
                rule,
            ]
        )
    widths = [92, CONTENT_WIDTH - 92 - 3 * 46 - 90, 46, 46, 46, 90]
    header = ["Bloc", "Intitulé", "Par les deux", "Par un seul", "Par aucun", "Règle des 80 %"]
    return grid(header, rows, widths)


# --- blocs and competences -----------------------------------------------------------------


def _bloc(data: CarnetData, cert_bloc: CertificationBloc, checks: Checks) -> list[Flowable]:
    progress = data.progress[cert_bloc.key]
    title = f"{cert_bloc.code} – {cert_bloc.title}"
    story: list[Flowable] = [
        Heading(esc(title), STYLES.h1, outline=f"{cert_bloc.key} – {cert_bloc.title}", level=0)
    ]
    if progress.held:
        for held in data.parcours.held_blocs:
            if held.bloc_key == cert_bloc.key:
                when = f" (obtenu le {fr_date(held.obtained_on)})" if held.obtained_on else ""
                story.append(para(f"<b>Bloc déjà détenu</b> : {esc(held.origin)}{when}", STYLES.ok))
    story.append(para(esc(progress.explanation), STYLES.body))
    statuses = {s.key: s for s in progress.competences}
    for competence in cert_bloc.bloc.competences:
        story.extend(_competence(data, competence, statuses[competence.key], progress, checks))
    return story


def _competence(
    data: CarnetData,
    competence: Competence,
    status: CompetenceStatus,
    progress: BlocProgress,
    checks: Checks,
) -> list[Flowable]:
    heading = f"{competence.number} – {competence.label}"
    story: list[Flowable] = [Heading(esc(heading), STYLES.h2, outline=_shorten(heading), level=1)]
    touched = (
        any((competence.key, role) in data.attestations for role, _ in ROLES)
        or competence.key in data.self_assessments
    )
    if progress.held and not touched:
        story.append(para("Bloc déjà détenu : aucune attestation n'est nécessaire.", STYLES.muted))
        return story
    style = STYLES.ok if status.attested else STYLES.warn
    story.append(para(f"État : {esc(status.summary)}", style))
    story.extend(para(esc(m), STYLES.alert) for m in status.messages)
    story.extend(_broken_signatures(data, competence.key, checks))
    story.append(_self_assessment(data, competence.key))
    story.append(_criteria_table(data, competence))
    for role, whose in ROLES:
        attester = status.tutor if role == "tuteur" else status.manager
        story.extend(_attestation(data, competence.key, role, whose, attester, checks))
    return story


def _broken_signatures(data: CarnetData, key: str, checks: Checks) -> list[Flowable]:
    """The state above comes from the latest signed versions as stored: say so next to it when
    one of them no longer matches what was signed."""
    found = []
    for role, whose in ROLES:
        version = data.latest_signed(key, role)
        check = checks.get(version.id) if version is not None else None
        if check is not None and not check.valid:
            found.append(
                para(
                    f"Signature rompue sur l'attestation {whose} : son contenu ne correspond "
                    "plus à ce qui a été signé ; l'état ci-dessus est à vérifier.",
                    STYLES.alert,
                )
            )
    return found


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _self_assessment(data: CarnetData, key: str) -> Flowable:
    assessment = data.self_assessments.get(key)
    prefix = "<b>Pré-positionnement du candidat</b> (auto-évaluation, pas une évaluation) : "
    if assessment is None:
        return para(prefix + "non renseigné.", STYLES.body)
    level = esc(_label(SELF_LEVEL_LABELS, assessment.level))
    comment = f"<br/>Commentaire : {esc(assessment.comment)}" if assessment.comment else ""
    return para(
        f"{prefix}{level} (mis à jour le {fr_date(assessment.updated_at.date())}){comment}",
        STYLES.body,
    )


def _criteria_table(data: CarnetData, competence: Competence) -> Flowable:
    observed = {}
    for role, _ in ROLES:
        version = data.latest_signed(competence.key, role)
        observed[role] = None if version is None else set(version.observed_criteria)

    def mark(role: str, key: str) -> str:
        seen = observed[role]
        if seen is None:
            return "—"
        return "<b>✓ observé</b>" if key in seen else "non observé"

    rows = [
        [f"{i}. {esc(c.label)}", mark("tuteur", c.key), mark("manager", c.key)]
        for i, c in enumerate(competence.criteria, start=1)
    ]
    header = ["Critère d'évaluation (dernière attestation signée)", "Tuteur", "Manager"]
    return grid(header, rows, [CONTENT_WIDTH - 2 * 72, 72, 72])


def _attestation(
    data: CarnetData,
    key: str,
    role: str,
    whose: str,
    status: AttesterStatus | None,
    checks: Checks,
) -> list[Flowable]:
    attestation = data.attestations.get((key, role))
    versions = attestation.versions if attestation is not None else []
    signed = [v for v in versions if v.signed]
    latest = signed[-1] if signed else None
    draft = versions[-1] if versions and not versions[-1].signed else None
    story: list[Flowable] = []
    if latest is None:
        story.append(para(f"Attestation {whose} : aucune attestation signée.", STYLES.h3))
    else:
        story.append(
            para(
                f"Attestation {whose} – {esc(_person(latest.attester))}, version {latest.number}",
                STYLES.h3,
            )
        )
        story.extend(_content(latest, status))
        # the box names what it vouches for: it still reads right when it opens a page
        story.append(boxed(_evidence(latest, checks)))
    for earlier in signed[:-1]:
        story.append(
            para(
                f"Version antérieure {earlier.number}, signée le "
                f"{fr_datetime(earlier.signed_at, seconds=True)} "
                f"par {esc(_person(earlier.signer))}, "
                f"empreinte SHA-256 {earlier.content_hash} – {_check_text(earlier, checks)}",
                STYLES.muted,
            )
        )
    if draft is not None:
        story.append(
            para(
                f"Version {draft.number} du {fr_datetime(draft.updated_at)} : brouillon non signé, "
                "non pris en compte.",
                STYLES.muted,
            )
        )
    return story


def _content(version: AttestationVersion, status: AttesterStatus | None) -> list[Flowable]:
    kind = _label(SITUATION_LABELS, version.situation_kind)
    verdict = _label(VERDICT_LABELS, version.verdict)
    counted = (
        f"{status.observed} sur {status.total} (la règle des 80 % en demande {status.required})"
        if status is not None
        else f"{len(version.observed_criteria)}"
    )
    comment = esc(version.comment) if version.comment else "aucun"
    return [
        para(
            f"<b>Situation observée</b> : {esc(kind)}, le {fr_date(version.situation_date)}",
            STYLES.field,
        ),
        para(f"<b>Description</b> : {esc(version.description)}", STYLES.field),
        para(f"<b>Critères observés</b> : {counted}", STYLES.field),
        para(f"<b>Appréciation</b> : {esc(verdict)}", STYLES.field),
        para(f"<b>Commentaire</b> : {comment}", STYLES.field),
    ]


def _evidence(version: AttestationVersion, checks: Checks) -> list[Flowable]:
    role = _label(ATTESTER_LABELS, version.signer_role or "")
    audit = f", journal d'audit n° {version.audit_seq}" if version.audit_seq else ""
    check = checks.get(version.id)
    style = STYLES.ok if check is not None and check.valid else STYLES.alert
    return [
        para(
            f"<b>Version {version.number} signée par</b> {esc(_person(version.signer))} "
            f"({esc(role.lower())}) le "
            f"{fr_datetime(version.signed_at, seconds=True)}, adresse IP "
            f"{esc(version.signer_ip or 'inconnue')}{audit}",
            STYLES.small,
        ),
        para(
            f"<b>Empreinte SHA-256 du contenu signé</b> : {esc(version.content_hash)}",
            STYLES.small,
        ),
        para(_check_text(version, checks), style),
    ]


def _check_text(version: AttestationVersion, checks: Checks) -> str:
    check = checks.get(version.id)
    if check is None:
        return "Contrôle de la signature non effectué."
    return esc(check.message)


# --- milestones ----------------------------------------------------------------------------


def _milestones(data: CarnetData) -> list[Flowable]:
    story: list[Flowable] = [
        Heading("Étapes du parcours", STYLES.h1, outline="Étapes du parcours", level=0)
    ]
    for kind in MilestoneKind:
        label = MILESTONE_LABELS[kind]
        story.append(para(esc(label), STYLES.h2))
        milestone = data.milestones.get(kind.value)
        if milestone is None:
            story.append(para("Non renseigné.", STYLES.muted))
            continue
        names = [_participant(data, pid) for pid in milestone.participant_ids]
        if milestone.other_participants:
            names.append(esc(milestone.other_participants))
        story.append(para(f"<b>Date</b> : {fr_date(milestone.day)}", STYLES.field))
        story.append(
            para(f"<b>Participants</b> : {', '.join(names) or 'non renseignés'}", STYLES.field)
        )
        notes = esc(milestone.notes) if milestone.notes else "aucune"
        story.append(para(f"<b>Notes</b> : {notes}", STYLES.field))
    return story


def _participant(data: CarnetData, person_id: int) -> str:
    parcours = data.parcours
    person = data.people.get(person_id)
    if person is None:
        return f"participant n° {person_id} (ne suit plus ce parcours)"
    role = {
        parcours.candidate_id: "candidat",
        parcours.tutor_id: "tuteur",
        parcours.manager_id: "manager",
    }.get(person_id)
    return f"{esc(_person(person))} ({role})" if role else esc(_person(person))
