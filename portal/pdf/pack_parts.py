"""The interview pack PDF, first parts: cover, contents, the 45-minute plan, and per bloc its
situations (as the livret PDF prints them), coverage matrix and carnet summary.

Every string a user typed goes through ``esc``; headings are ``Entry`` flowables (bookmark,
outline entry, page number in the contents).
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.utils import simpleSplit
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from carnet.rules import VERDICT_NAMES, AttesterStatus
from portal.pdf.base import (
    AMBER,
    BOLD,
    CONTENT_WIDTH,
    GREEN,
    GRID,
    RED,
    REGULAR,
    SHADE,
    STYLES,
    cells,
    esc,
    fr_datetime,
    grid,
    key_values,
    para,
)
from portal.pdf.contents import Contents, ContentsEntry
from portal.pdf.livret_parts import Entry, bloc_part
from portal.pdf.livret_plan import Plan, PlannedBloc, shorten
from portal.pdf.pack_data import TITLE, PackBloc, PackData
from vae.jury.pack import LEVEL_LABELS, NONE, SOLID

CONFIDENTIAL = (
    "Document confidentiel, réservé aux membres du jury de la session. Il reproduit l'édition "
    "soumise du livret 2 (figée à la signature de la déclaration sur l'honneur) et l'état du "
    "carnet de suivi au moment où il a été généré."
)
LEVEL_COLOURS = {SOLID: GREEN, NONE: RED}


def bloc_key(pack_bloc: PackBloc, livret: Plan | None) -> str:
    """The bookmark key of a bloc: the livret plan's when its situations are printed."""
    planned = planned_bloc(pack_bloc, livret)
    return planned.dest if planned is not None else f"k{pack_bloc.key}"


def planned_bloc(pack_bloc: PackBloc, livret: Plan | None) -> PlannedBloc | None:
    if livret is None:
        return None
    return next((b for b in livret.blocs if b.key == pack_bloc.key and b.situations), None)


# --- cover and contents ----------------------------------------------------------------------


def cover(data: PackData) -> list[Flowable]:
    certification, candidate = data.certification, data.candidate
    job = f" – {esc(candidate.job_title)}" if candidate.job_title else ""
    held = ", ".join(data.held) or "aucun"
    rows = [
        ("Candidat", f"<b>{esc(data.candidate_name)}</b>{job}"),
        (
            "Certification",
            f"{esc(certification.title)} (CQP {esc(certification.short)}), "
            f"{esc(certification.code)}, niveau {certification.level}",
        ),
        ("Voie d'accès", esc(data.route_label)),
        ("Organisme employeur", esc(data.employer.name)),
        ("Branche", esc(data.employer.branche or "non précisée")),
        ("Session", f"jury professionnel du {data.session_day}, {esc(data.jury_session.place)}"),
        (
            "Convocation",
            f"<b>{data.convocation_time}</b> (heure de Paris), {esc(data.convocation.place)}",
        ),
        ("Blocs déjà détenus", esc(held)),
        ("Livret 2", _livret_state(data)),
        ("Document généré le", fr_datetime(data.generated_at)),
    ]
    members = [[esc(m.name), esc(m.quality), esc(m.organisation)] for m in data.members]
    story: list[Flowable] = [
        Spacer(1, 20),
        Entry(TITLE, STYLES.title, key="cover", outline="Couverture", level=0),
        para(
            f"Entretien avec le jury professionnel – CQP {esc(certification.short)}",
            STYLES.subtitle,
        ),
        key_values(rows),
        para("Le jury", STYLES.h2),
    ]
    if members:
        widths = [150, 90, CONTENT_WIDTH - 240]
        story.append(grid(["Membre", "Qualité", "Organisme"], members, widths))
    else:
        story.append(para("Aucun membre n'est encore désigné.", STYLES.warn))
    story.append(para(CONFIDENTIAL, STYLES.note))
    return story


def _livret_state(data: PackData) -> str:
    if data.submission is None:
        return esc(data.livret_note)
    return (
        f"édition n° {data.submission.edition} soumise le "
        f"{fr_datetime(data.submission.submitted_at)}"
    )


def contents_of(data: PackData, livret: Plan | None) -> Contents:
    contents = Contents()
    contents.add(ContentsEntry(0, "Plan de l'entretien", key="plan"))
    for pack_bloc in data.blocs:
        key = bloc_key(pack_bloc, livret)
        contents.add(ContentsEntry(0, esc(_heading(pack_bloc)), key=key))
        planned = planned_bloc(pack_bloc, livret)
        for situation in planned.situations if planned else []:
            contents.add(ContentsEntry(1, esc(situation.heading), key=situation.key))
        contents.add(ContentsEntry(1, "Couverture des compétences", key=f"{key}cov"))
        contents.add(ContentsEntry(1, "Attestations du carnet de suivi", key=f"{key}car"))
    contents.add(ContentsEntry(0, "Points à approfondir et questions", key="weak"))
    contents.add(ContentsEntry(0, "Grille d'évaluation", key="grid"))
    for pack_bloc in data.blocs:
        contents.add(ContentsEntry(1, esc(_heading(pack_bloc)), key=f"grid{pack_bloc.key}"))
    if livret is not None and livret.annexes:
        contents.add(ContentsEntry(0, "Annexes du candidat", after_end=1))
        for annex in livret.annexes:
            gone = " – <b>indisponible</b>" if annex.problem else ""
            contents.add(
                ContentsEntry(1, f"{esc(annex.file.heading)}{gone}", after_end=annex.after_end)
            )
    return contents


def contents_page(contents: Contents) -> list[Flowable]:
    return [
        Entry("Sommaire", STYLES.h1, key="contents", outline="Sommaire", level=0),
        *contents.flowables(),
        para(
            "Les annexes du candidat suivent le dossier dans ce fichier ; leurs numéros de page "
            "sont ceux du fichier PDF.",
            STYLES.muted,
        ),
    ]


def _heading(pack_bloc: PackBloc) -> str:
    return f"{pack_bloc.cert_bloc.code} – {pack_bloc.cert_bloc.title}"


# --- the 45-minute plan ----------------------------------------------------------------------


def plan_part(data: PackData) -> list[Flowable]:
    plan = data.plan
    story: list[Flowable] = [
        Entry(
            f"Plan de l'entretien ({plan.total} minutes)",
            STYLES.h1,
            key="plan",
            outline="Plan de l'entretien",
            level=0,
        ),
        para(
            f"L'entretien dure {plan.total} minutes : la présentation du candidat "
            f"({plan.presentation.minutes} min), puis les questions du jury "
            f"({plan.questions.minutes} min). Le temps de chaque phase est réparti entre les "
            "blocs à évaluer au prorata de leurs compétences ; pour les questions, les "
            "compétences peu ou pas étayées par le dossier comptent double.",
            STYLES.body,
        ),
    ]
    rows = []
    for phase in plan.phases:
        rows.append(
            [
                f"<b>{esc(phase.name)}</b>",
                _span(phase.start, phase.end),
                f"<b>{phase.minutes} min</b>",
            ]
        )
        for slot in phase.slots:
            rows.append(
                [
                    f"&nbsp;&nbsp;&nbsp;&nbsp;{esc(slot.bloc_key)} – {esc(slot.title)}",
                    _span(slot.start, slot.end),
                    f"{slot.minutes} min",
                ]
            )
    if not data.blocs:
        rows.append(["Aucun bloc à évaluer : tous les blocs sont déjà détenus.", "", ""])
    story.append(grid(["Phase et bloc", "Minutes", "Durée"], rows, [CONTENT_WIDTH - 150, 80, 70]))
    return story


def _span(start: int, end: int) -> str:
    return f"{start} → {end}"


# --- per bloc: situations, coverage, carnet --------------------------------------------------


def bloc_section(data: PackData, pack_bloc: PackBloc, livret: Plan | None) -> list[Flowable]:
    key = bloc_key(pack_bloc, livret)
    presentation, questions = pack_bloc.minutes
    timing = para(
        f"<b>Temps prévu</b> : présentation {presentation} min, questions {questions} min. "
        f"{esc(pack_bloc.summary(has_livret=data.has_livret))}",
        STYLES.body,
    )
    planned = planned_bloc(pack_bloc, livret)
    if planned is not None:
        story = bloc_part(planned)  # the bloc's heading, then its situations as signed
        story.insert(1, timing)
    else:
        story = [
            Entry(
                esc(_heading(pack_bloc)),
                STYLES.h1,
                key=key,
                outline=shorten(f"{pack_bloc.key} – {pack_bloc.cert_bloc.title}"),
                level=0,
            ),
            timing,
            para(esc(data.livret_note or "Aucune situation décrite pour ce bloc."), STYLES.warn),
        ]
    story += _coverage(data, pack_bloc, key)
    story += _carnet(pack_bloc, key)
    return story


def _coverage(data: PackData, pack_bloc: PackBloc, key: str) -> list[Flowable]:
    widths = [CONTENT_WIDTH - 3 * 96, 96, 96, 96]
    rows: list[list[Cell]] = [cells(HEADINGS_COVERAGE, STYLES.cell_head)]
    colours = []
    for number, competence in enumerate(pack_bloc.coverage.competences, start=1):
        level = pack_bloc.levels[competence.key]
        situations: Cell = "—" if not data.has_livret else "aucune"
        if competence.situations:  # typed by the candidate: a paragraph (escaped, wraps)
            titles = "<br/>".join(esc(title) for _, title in competence.situations)
            situations = para(titles, STYLES.cell)
        rows.append(
            [
                lines(f"{competence.number} – {competence.label}", widths[0]),
                situations,
                lines(competence.carnet or "pas encore attestée", widths[2]),
                LEVEL_LABELS[level],
            ]
        )
        colours.append(("TEXTCOLOR", (3, number), (3, number), LEVEL_COLOURS.get(level, AMBER)))
    table = plain_table(rows, widths, [*colours, ("FONT", (3, 1), (3, -1), BOLD, 8.5)])
    return [
        Entry(
            "Couverture des compétences",
            STYLES.h2,
            key=f"{key}cov",
            outline="Couverture des compétences",
            level=1,
        ),
        table,
    ]


def _carnet(pack_bloc: PackBloc, key: str) -> list[Flowable]:
    progress = pack_bloc.progress
    widths = [40, 96, 96, 62, CONTENT_WIDTH - 294]
    rows: list[list[Cell]] = [cells(HEADINGS_CARNET, STYLES.cell_head)]
    for status in progress.competences:
        rows.append(
            [
                status.number,
                lines(_attester(status.tutor), widths[1]),
                lines(_attester(status.manager), widths[2]),
                ATTESTED_BY[status.attested_by],
                lines(" ".join(status.messages) or "—", widths[4]),
            ]
        )
    table = plain_table(rows, widths, [("FONT", (3, 1), (3, -1), BOLD, 8.5)])
    return [
        Entry(
            "Attestations du carnet de suivi",
            STYLES.h2,
            key=f"{key}car",
            outline="Attestations du carnet de suivi",
            level=1,
        ),
        para(esc(progress.explanation), STYLES.body),
        table,
    ]


HEADINGS_COVERAGE = ["Compétence", "Situations du livret", "Carnet de suivi", "Appréciation"]
HEADINGS_CARNET = ["Comp.", "Tuteur", "Manager", "Attestée par", "Désaccords"]
ATTESTED_BY = {2: "les deux", 1: "un seul", 0: "aucun"}


def _attester(status: AttesterStatus | None) -> str:
    if status is None:
        return "pas d'attestation signée"
    verdict = VERDICT_NAMES.get(status.verdict, status.verdict)
    return f"{verdict}, {status.observed} critère(s) sur {status.total}"


# --- plain-text tables -----------------------------------------------------------------------
# Generated and référentiel text needs no markup: laid out as lines of a plain table cell, it
# costs a fraction of a paragraph, and the pack has hundreds of such cells.

Cell = Flowable | str
CELL_SIZE = 8.5
CELL_PADDING = 8  # left + right padding of GRID


def lines(text: str, width: float, font: str = REGULAR) -> str:
    """Plain text (never markup) broken into the lines of a ``width``-point table cell."""
    return "\n".join(simpleSplit(" ".join(text.split()), font, CELL_SIZE, width - CELL_PADDING))


def plain_table(rows: list[list[Cell]], widths: list[float], extra: list[Any]) -> Table:
    """Shaded header row repeated on each page; cells are strings or flowables."""
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), SHADE), *extra]))
    return table
