"""The interview pack PDF, last parts: the points to probe (with suggested questions) and the
evaluation grid to fill in by hand during the interview."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer, Table, TableStyle

from portal.pdf.base import (
    BOLD,
    CONTENT_WIDTH,
    GRID,
    SHADE,
    STYLES,
    cells,
    esc,
    para,
)
from portal.pdf.livret_parts import Entry
from portal.pdf.livret_plan import shorten
from portal.pdf.pack_data import PackBloc, PackData
from portal.pdf.pack_parts import Cell, lines
from vae.jury.pack import NONE, SOLID, WeakCompetence
from vae.referentiel.model import Competence
from vae.rules import required_count

BOX = "☐"
BOX_WIDTH = 66
LABEL_WIDTH = CONTENT_WIDTH - 2 * BOX_WIDTH
LEADING = 10.2  # a plain cell's line: 1.2 × 8.5 points
ROW_PADDING = 6  # top + bottom padding of GRID
NOTE_ROW = 34  # room to write a comment
COMPETENCE = ParagraphStyle("weak_competence", parent=STYLES.body, spaceBefore=8, spaceAfter=2)
LEVEL_COLOURS = {NONE: "#B00020", SOLID: "#1E1E1E"}
AMBER_HEX = "#8A5300"
CRITERION = ParagraphStyle("weak_criterion", parent=STYLES.body, leftIndent=12, spaceBefore=3)
WEAK_INTRO = (
    "Sont listées les compétences qu'aucune situation du livret ne revendique ou que le carnet "
    "de suivi n'atteste pas par le tuteur et le manager, et les critères que rien n'étaye "
    "(ni coché dans une situation, ni observé par les deux attestants). Les questions sont des "
    "suggestions tirées du libellé du référentiel."
)
GRID_INTRO = (
    "À remplir pendant l'entretien. Un critère est validé ou non ; une compétence est acquise "
    "lorsqu'au moins 80 % de ses critères sont validés, un bloc est validé lorsqu'au moins 80 % "
    "de ses compétences sont acquises."
)


# --- points to probe -------------------------------------------------------------------------


def weak_part(data: PackData) -> list[Flowable]:
    story: list[Flowable] = [
        Entry(
            "Points à approfondir et questions",
            STYLES.h1,
            key="weak",
            outline="Points à approfondir",
            level=0,
        ),
        para(WEAK_INTRO, STYLES.note),
    ]
    for pack_bloc in data.blocs:
        story.append(
            Entry(
                f"{esc(pack_bloc.key)} – {esc(pack_bloc.cert_bloc.title)}",
                STYLES.h2,
                key=f"weak{pack_bloc.key}",
                outline=shorten(f"{pack_bloc.key} – {pack_bloc.cert_bloc.title}"),
                level=1,
            )
        )
        if not pack_bloc.weak:
            story.append(
                para(
                    "Rien à signaler : le livret et le carnet étayent chaque compétence.", STYLES.ok
                )
            )
        for weak in pack_bloc.weak:
            story.extend(_weak_competence(weak))
    if not data.blocs:
        story.append(para("Aucun bloc à évaluer.", STYLES.muted))
    return story


def _weak_competence(weak: WeakCompetence) -> list[Flowable]:
    """One paragraph for the competence (heading, appraisal, questions: never parted), one per
    weak criterion."""
    colour = LEVEL_COLOURS.get(weak.level, AMBER_HEX)
    lines_ = [
        f"<b>{esc(weak.number)} – {esc(weak.label)}</b>",
        f"<font color='{colour}'><b>{esc(weak.level_label)}.</b></font> "
        + " ".join(esc(r) for r in weak.reasons),
    ]
    if weak.level != SOLID:
        lines_ += [f"→ {esc(q)}" for q in weak.questions]
    story: list[Flowable] = [para("<br/>".join(lines_), COMPETENCE)]
    for criterion in weak.criteria:
        # the questions quote the criterion's wording: it is not printed a second time
        questions = "".join(f"<br/>→ {esc(q)}" for q in criterion.questions)
        story.append(
            para(
                f"<b>Critère {criterion.number}</b> "
                f"<font color='#5A6270' size='7.5'>– {esc(criterion.reason)}</font>{questions}",
                CRITERION,
            )
        )
    return story


# --- evaluation grid -------------------------------------------------------------------------


def grid_part(data: PackData) -> list[Flowable]:
    story: list[Flowable] = [
        Entry("Grille d'évaluation", STYLES.h1, key="grid", outline="Grille d'évaluation", level=0),
        para(GRID_INTRO, STYLES.note),
    ]
    for pack_bloc in data.blocs:
        story.extend(_bloc_grid(pack_bloc))
    story.extend(_signatures(data))
    return story


def _bloc_grid(pack_bloc: PackBloc) -> list[Flowable]:
    competences = pack_bloc.cert_bloc.bloc.competences
    story: list[Flowable] = [
        Entry(
            f"{esc(pack_bloc.cert_bloc.code)} – {esc(pack_bloc.cert_bloc.title)}",
            STYLES.h2,
            key=f"grid{pack_bloc.key}",
            outline=shorten(f"{pack_bloc.key} – {pack_bloc.cert_bloc.title}"),
            level=1,
        )
    ]
    for competence in competences:
        story.extend(_competence_grid(competence))
    total = len(competences)
    verdict: list[list[Cell]] = [
        [
            para(
                f"<b>Bloc {esc(pack_bloc.key)}</b> : compétences acquises ______ sur {total} "
                f"(80 % : {required_count(total)} requises)",
                STYLES.cell,
            ),
            f"{BOX} validé",
            f"{BOX} non validé",
        ],
        [para("<b>Préconisations</b> (si le bloc n'est pas validé) :", STYLES.cell), "", ""],
    ]
    story.append(KeepTogether([Spacer(1, 4), _table(verdict, header=False)]))
    return story


def _competence_grid(competence: Competence) -> list[Flowable]:
    """The competence's table, kept on one page when it fits (the grid is filled in on paper).
    Its cells are plain text, so its height is known without laying it out twice."""
    count = len(competence.criteria)
    rows: list[list[str]] = [
        [
            lines(f"{competence.number} – {competence.label}", LABEL_WIDTH, BOLD),
            "Validé",
            "Non validé",
        ],
        *(
            [lines(f"{number}. {criterion.label}", LABEL_WIDTH), BOX, BOX]
            for number, criterion in enumerate(competence.criteria, start=1)
        ),
        [
            lines(
                f"Compétence acquise ({required_count(count)} critères validés sur {count} "
                "au moins)",
                LABEL_WIDTH,
            ),
            f"{BOX} oui",
            f"{BOX} non",
        ],
        ["Commentaire :", "", ""],
    ]
    height = sum(row[0].count("\n") + 1 for row in rows[:-1]) * LEADING
    height += len(rows[:-1]) * ROW_PADDING + NOTE_ROW
    table = _table(rows, header=True)
    return [CondPageBreak(height + 2), table, Spacer(1, 6)]


def _table(rows: Sequence[Sequence[Cell]], *, header: bool) -> Table:
    """Label and two box columns; the last row (comment, recommendations) spans the width and
    leaves room to write."""
    table = Table(
        [list(row) for row in rows],
        colWidths=[LABEL_WIDTH, BOX_WIDTH, BOX_WIDTH],
        rowHeights=[None] * (len(rows) - 1) + [NOTE_ROW],
        repeatRows=1 if header else 0,
        hAlign="LEFT",
    )
    style = [
        *GRID,
        ("BOX", (0, 0), (-1, -1), 0.6, SHADE),
        ("ALIGN", (1, 0), (-1, -1), "CENTER"),
        ("SPAN", (0, -1), (-1, -1)),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("FONT", (0, 0), (-1, 0), BOLD, 8.5)]
    table.setStyle(TableStyle(style))
    return table


def _signatures(data: PackData) -> list[Flowable]:
    rows = [[esc(m.name), esc(m.quality), ""] for m in data.members] or [["", "", ""]]
    table = Table(
        [cells(["Membre du jury", "Qualité", "Signature"], STYLES.cell_head), *map(cells, rows)],
        colWidths=[170, 110, CONTENT_WIDTH - 280],
        rowHeights=[None] + [36] * len(rows),
        hAlign="LEFT",
    )
    table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), SHADE)]))
    return [
        para("Signatures du jury", STYLES.h2),
        para("Fait le ____ / ____ / ________ à ______________________", STYLES.body),
        table,
    ]
