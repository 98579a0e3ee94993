"""The interview pack of one convocation as one PDF, for the jury professionnel.

Cover (candidate, certification, route, organisme, branche, session, convocation, jury),
contents with page numbers, the 45-minute plan, per bloc to assess its situations as signed in
the submitted livret edition, the coverage matrix and the carnet's attestations, the points to
probe with suggested questions, the evaluation grid to fill in; then the candidate's annexes,
merged with an outline per bloc and situation (``portal.pdf.annexes.append_annexes``, the
livret PDF's merge).

Pure rendering of a ``PackData`` (``portal.pdf.pack_data.load_pack``): no query here.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from reportlab.platypus import Flowable, PageBreak

from portal.pdf.annexes import Loaded, append_annexes, load
from portal.pdf.base import DocInfo
from portal.pdf.contents import ContentsCanvas
from portal.pdf.livret import _LivretDocument as EntryDocument  # Entry headings → contents
from portal.pdf.livret_plan import Plan
from portal.pdf.pack_data import TITLE, PackData
from portal.pdf.pack_grid import grid_part, weak_part
from portal.pdf.pack_parts import bloc_section, contents_of, contents_page, cover, plan_part


def pack_pdf(data: PackData, *, annex_dir: Path) -> bytes:
    """The pack and the candidate's annexes as one PDF."""
    livret = livret_plan(data)
    files: list[Loaded] = []
    if livret is not None:
        files = [load(annex.file, annex_dir) for annex in livret.annexes]
        for annex, loaded in zip(livret.annexes, files, strict=True):
            annex.problem = loaded.problem
        livret.place_annexes(files)
    document = _render(data, livret)
    return append_annexes(
        document,
        document_title=TITLE,
        files=files,
        outline=livret.outline() if livret is not None else [],
        annexes_title="Annexes du candidat",
    )


def livret_plan(data: PackData) -> Plan | None:
    """The submitted edition arranged as the livret PDF arranges it (blocs, situations,
    annexes numbered across the livret), or None when there is none."""
    if data.submission is None:
        return None
    plan = Plan(
        certification=data.certification,
        candidate=data.candidate_name,
        candidate_id=data.candidate.id,
        employer=data.employer,
        content=data.submission.snapshot,
        submission=data.submission,
        edition=data.submission.edition,
        generated_at=data.generated_at,
    )
    plan.arrange({h.bloc_key: h for h in data.parcours.held_blocs})
    return plan


def _render(data: PackData, livret: Plan | None) -> bytes:
    certification = data.certification
    info = DocInfo(
        title=f"{TITLE} – {data.candidate_name} – CQP {certification.short}",
        subject=f"{TITLE} : {certification.title} ({certification.code})",
        footer=f"{data.candidate_name} · {TITLE} · confidentiel, réservé au jury",
        header=(
            f"{TITLE} · CQP {certification.short} · jury professionnel du {data.session_day}, "
            f"{data.jury_session.place}"
        ),
        keywords=("dossier d'entretien", "jury", f"CQP {certification.short}", certification.code),
    )
    contents = contents_of(data, livret)
    story: list[Flowable] = [*cover(data), PageBreak(), *contents_page(contents), PageBreak()]
    story.extend(plan_part(data))
    for pack_bloc in data.blocs:
        story.append(PageBreak())
        story.extend(bloc_section(data, pack_bloc, livret))
    story.append(PageBreak())
    story.extend(weak_part(data))
    story.append(PageBreak())
    story.extend(grid_part(data))
    buffer = io.BytesIO()
    document = EntryDocument(buffer, info, contents=contents, mark="")
    document.build(story, canvasmaker=functools.partial(ContentsCanvas, contents=contents))
    return buffer.getvalue()
