"""The parts of the livret PDF: cover, contents, the candidate and their career, each bloc with
its situations, the sworn statement. Every string a user typed goes through ``esc``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer

from portal.pdf.base import (
    CONTENT_WIDTH,
    STYLES,
    esc,
    fr_date,
    fr_datetime,
    grid,
    key_values,
    para,
)
from portal.pdf.contents import Contents, ContentsEntry
from portal.pdf.livret_plan import (
    Plan,
    PlannedBloc,
    PlannedSituation,
    day,
    or_missing,
    pages_text,
    period,
    shorten,
    size_text,
)
from vae.anonymisation import mentions_anonymised
from vae.livret.rules import RUBRICS
from vae.livret.service import SWORN_STATEMENT, snapshot_hash

TITLE = "Livret 2 de VAE"
DRAFT_MARK = "Brouillon — non soumis"
RUBRIC_HEADINGS = {
    "context": "Contexte",
    "actions": "Ce que j'ai fait",
    "means": "Moyens et outils",
    "collaborators": "Avec qui",
    "result": "Résultat",
    "learnings": "Ce que j'en retiens",
}
PROSE = ParagraphStyle("prose", parent=STYLES.body, fontSize=9.5, leading=13.5, spaceAfter=5)
ITEM = ParagraphStyle("item", parent=STYLES.body, leftIndent=22, firstLineIndent=-9, spaceAfter=1)
CRITERION = ParagraphStyle(
    "criterion", parent=ITEM, leftIndent=34, firstLineIndent=0, fontSize=8.5, leading=11
)


class Entry(Paragraph):
    """A heading with a bookmark (outline) and a known key the contents link to. Never split:
    a heading that does not fit moves to the next page whole."""

    def __init__(self, text: str, style: ParagraphStyle, *, key: str, outline: str, level: int):
        super().__init__(text, style)
        self.key, self.outline, self.level = key, outline, level

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []


# --- cover and contents ----------------------------------------------------------------------


def cover(plan: Plan) -> list[Flowable]:
    certification, employer = plan.certification, plan.employer
    if plan.submission is None:
        status = f"<font color='#8A5300'><b>{DRAFT_MARK}</b></font>"
    else:
        status = f"soumis le {fr_datetime(plan.submission.submitted_at)}"
    rows = [
        ("Candidat", esc(plan.candidate)),
        (
            "Certification",
            f"{esc(certification.title)} (CQP {esc(certification.short)}), "
            f"{esc(certification.code)}, niveau {certification.level}",
        ),
        ("Employeur", f"{esc(employer.name)} – branche {esc(employer.branche or 'non précisée')}"),
        ("Édition", f"n° {plan.edition}"),
        ("Soumission", status),
        ("Document généré le", fr_datetime(plan.generated_at)),
    ]
    story: list[Flowable] = [
        Spacer(1, 30),
        Entry(TITLE, STYLES.title, key="cover", outline="Couverture", level=0),
        para("Validation des acquis de l'expérience", STYLES.subtitle),
        para(
            f"<b>{esc(certification.title)}</b><br/>Certificat de qualification "
            f"professionnelle, {esc(certification.code)}",
            STYLES.subtitle,
        ),
        para(f"<b>{esc(plan.candidate)}</b>", STYLES.subtitle),
        Spacer(1, 8),
        key_values(rows),
    ]
    if plan.submission is None:
        story.append(
            para(
                f"<b>{DRAFT_MARK}.</b> Ce document reproduit le livret en cours de rédaction : "
                "il n'est ni signé ni soumis, et son contenu peut encore changer.",
                STYLES.note,
            )
        )
    elif plan.submission.returned_at is not None:
        story.append(
            para(
                f"<b>Édition renvoyée pour correction le "
                f"{fr_datetime(plan.submission.returned_at)}.</b> Motif : "
                f"{esc(plan.submission.return_reason)}",
                STYLES.note,
            )
        )
    story += [para("Blocs de compétences", STYLES.h2), _summary(plan)]
    return story


def _summary(plan: Plan) -> Flowable:
    rows = []
    for bloc in plan.blocs:
        if bloc.held is not None and not bloc.situations:
            situations, annexes = "bloc déjà détenu", "—"
        else:
            situations = str(len(bloc.situations))
            annexes = str(sum(len(s.annexes) for s in bloc.situations))
        rows.append(
            [f"<b>{esc(bloc.key)}</b><br/>{esc(bloc.code)}", esc(bloc.title), situations, annexes]
        )
    widths = [92, CONTENT_WIDTH - 92 - 2 * 70, 70, 70]
    return grid(["Bloc", "Intitulé", "Situations", "Annexes"], rows, widths)


def contents_of(plan: Plan) -> Contents:
    contents = Contents()
    contents.add(ContentsEntry(0, "Le candidat et son parcours", key="profile"))
    for bloc in plan.blocs:
        contents.add(ContentsEntry(0, esc(bloc.heading), key=bloc.dest))
        for situation in bloc.situations:
            contents.add(ContentsEntry(1, esc(situation.heading), key=situation.key))
    contents.add(ContentsEntry(0, "Déclaration sur l'honneur", key="statement"))
    if plan.annexes:
        contents.add(ContentsEntry(0, "Annexes", after_end=1))
        for bloc in plan.blocs:
            for situation in bloc.situations:
                for annex in situation.annexes:
                    where = f"{esc(bloc.key)}, situation {situation.number}"
                    gone = " – <b>indisponible</b>" if annex.problem else ""
                    markup = f"{esc(annex.file.heading)} <font size='7.5'>({where}){gone}</font>"
                    contents.add(ContentsEntry(1, markup, after_end=annex.after_end))
    return contents


def contents_page(contents: Contents) -> list[Flowable]:
    return [
        Entry("Sommaire", STYLES.h1, key="contents", outline="Sommaire", level=0),
        *contents.flowables(),
        para(
            "Les annexes suivent le livret dans ce fichier ; leurs numéros de page sont ceux du "
            "fichier PDF.",
            STYLES.muted,
        ),
    ]


# --- the candidate and their career ----------------------------------------------------------


def profile(plan: Plan) -> list[Flowable]:
    data: Mapping[str, Any] = plan.content.get("profile") or {}
    employer = plan.employer
    rows = [
        ("Candidat", esc(plan.candidate)),
        ("Emploi actuel", or_missing(data.get("current_job"))),
        ("Service", or_missing(data.get("current_service"))),
        ("Organisme employeur", f"{esc(employer.name)}"),
    ]
    career = [
        [
            esc(j.get("job")),
            esc(j.get("employer")),
            day(j.get("from")),
            day(j.get("to"), "à ce jour"),
        ]
        for j in data.get("career") or []
    ]
    trainings = [
        [esc(t.get("title")), esc(t.get("body")), day(t.get("date"))]
        for t in data.get("trainings") or []
    ]
    story: list[Flowable] = [
        Entry(
            "Le candidat et son parcours",
            STYLES.h1,
            key="profile",
            outline="Le candidat et son parcours",
            level=0,
        ),
        key_values(rows),
        para("Parcours professionnel", STYLES.h2),
    ]
    if career:
        story.append(
            grid(
                ["Emploi", "Employeur", "Du", "Au"],
                career,
                [190, CONTENT_WIDTH - 190 - 2 * 62, 62, 62],
            )
        )
    else:
        story.append(para("Non renseigné.", STYLES.muted))
    story.append(para("Certifications et formations", STYLES.h2))
    if trainings:
        story.append(
            grid(["Intitulé", "Organisme", "Date"], trainings, [220, CONTENT_WIDTH - 220 - 62, 62])
        )
    else:
        story.append(para("Aucune certification ni formation déclarée.", STYLES.muted))
    return story


# --- blocs and situations --------------------------------------------------------------------


def bloc_part(bloc: PlannedBloc) -> list[Flowable]:
    story: list[Flowable] = [
        Entry(
            esc(bloc.heading),
            STYLES.h1,
            key=bloc.dest,
            outline=shorten(f"{bloc.key} – {bloc.title}"),
            level=0,
        )
    ]
    if bloc.held is not None:
        when = f" (obtenu le {fr_date(bloc.held.obtained_on)})" if bloc.held.obtained_on else ""
        story.append(
            para(
                f"Bloc déjà détenu : {esc(bloc.held.origin)}{when}. Aucune situation n'est "
                "attendue pour ce bloc.",
                STYLES.ok,
            )
        )
    elif not bloc.situations:
        story.append(para("Aucune situation décrite pour ce bloc.", STYLES.warn))
    for index, situation in enumerate(bloc.situations):
        if index:
            story.append(PageBreak())
        story.extend(_situation(bloc, situation))
    return story


def _situation(bloc: PlannedBloc, situation: PlannedSituation) -> list[Flowable]:
    data = situation.data
    story: list[Flowable] = [
        Entry(
            esc(situation.heading),
            STYLES.h2,
            key=situation.key,
            outline=shorten(situation.heading),
            level=1,
        ),
        key_values(
            [
                ("Période", period(data.get("period_from"), data.get("period_to"))),
                ("Organisme et service", or_missing(data.get("organisme_service"))),
            ]
        ),
    ]
    for name in RUBRICS:
        story.append(para(RUBRIC_HEADINGS[name], STYLES.h3))
        story.extend(_prose(data.get(name)))
    story.append(para("Compétences mises en œuvre", STYLES.h3))
    story.extend(_competences(bloc, data))
    story.append(para("Annexes", STYLES.h3))
    story.append(
        _annex_table(situation) if situation.annexes else para("Aucune annexe.", STYLES.muted)
    )
    return story


def _prose(value: object) -> list[Flowable]:
    """User text as typed: one paragraph per line, blank lines dropped."""
    lines = [line for line in str(value or "").splitlines() if line.strip()]
    if not lines:
        return [para("Non renseigné.", STYLES.muted)]
    return [para(esc(line), PROSE) for line in lines]


def _competences(bloc: PlannedBloc, data: Mapping[str, Any]) -> list[Flowable]:
    keys = list(data.get("competence_keys") or [])
    if not keys:
        return [para("Aucune compétence indiquée.", STYLES.muted)]
    chosen = set(data.get("criterion_keys") or [])
    order = list(bloc.competences)
    keys.sort(key=lambda k: order.index(k) if k in order else len(order))
    story: list[Flowable] = []
    for key in keys:
        competence = bloc.competences.get(key)
        if competence is None:
            story.append(para(f"• {esc(key)} (absente du référentiel de ce bloc)", ITEM))
            continue
        story.append(para(f"• <b>{esc(competence.number)}</b> – {esc(competence.label)}", ITEM))
        for number, criterion in enumerate(competence.criteria, start=1):
            if criterion.key in chosen:
                story.append(para(f"critère {number} : {esc(criterion.label)}", CRITERION))
    return story


def _annex_table(situation: PlannedSituation) -> Flowable:
    rows = []
    for annex in situation.annexes:
        data = annex.data
        name = (
            f"{esc(data.get('name'))}<br/><font size='7'>SHA-256 {esc(data.get('sha256'))}</font>"
        )
        if annex.problem:
            name += f"<br/><font color='#B00020'><b>Indisponible</b> : {esc(annex.problem)}</font>"
        rows.append(
            [
                f"Annexe {annex.number}",
                name,
                pages_text(data.get("pages")),
                size_text(data.get("size")),
            ]
        )
    widths = [58, CONTENT_WIDTH - 58 - 2 * 58, 58, 58]
    return grid(["N°", "Fichier", "Pages", "Taille"], rows, widths)


# --- sworn statement -------------------------------------------------------------------------


def statement(plan: Plan) -> list[Flowable]:
    story: list[Flowable] = [
        Entry(
            "Déclaration sur l'honneur",
            STYLES.h1,
            key="statement",
            outline="Déclaration sur l'honneur",
            level=0,
        )
    ]
    submission = plan.submission
    if submission is None:
        story += [
            para("Non signée : ce livret est un brouillon.", STYLES.warn),
            para(
                f"Le candidat la signera en soumettant son livret : « {SWORN_STATEMENT} »",
                STYLES.body,
            ),
        ]
        return story
    signer = (
        plan.candidate
        if submission.signer_id == plan.candidate_id
        else f"utilisateur n° {submission.signer_id}"
    )
    audit = str(submission.audit_seq) if submission.audit_seq else "—"
    story += [
        para(f"« {SWORN_STATEMENT} »", STYLES.note),
        key_values(
            [
                ("Signée par", esc(signer)),
                ("Le", fr_datetime(submission.submitted_at, seconds=True)),
                ("Adresse IP", esc(submission.signer_ip or "inconnue")),
                ("Journal d'audit", f"entrée n° {audit}"),
                ("Édition", f"n° {submission.edition}"),
                ("Empreinte SHA-256 du contenu soumis", esc(submission.content_hash)),
            ]
        ),
    ]
    story.append(Spacer(1, 6))
    if snapshot_hash(dict(plan.content)) == submission.content_hash:
        story.append(
            para("Contrôle : le contenu reproduit ici est celui qui a été signé.", STYLES.ok)
        )
    elif mentions_anonymised(dict(plan.content)):
        story.append(
            para(
                "Contenu anonymisé au terme de la durée de conservation : l'empreinte signée ne "
                "peut plus être contrôlée.",
                STYLES.body,
            )
        )
    else:
        story.append(
            para(
                "Contrôle : le contenu enregistré ne correspond plus à l'empreinte signée.",
                STYLES.alert,
            )
        )
    return story
