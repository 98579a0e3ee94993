"""The livret 2 as one PDF: cover, contents, the candidate and career data, per bloc its
situations (rubrics, competences and criteria claimed, annexes), the sworn statement; then the
annexes themselves, merged after it with an outline ("Livret", "Annexes" → bloc → situation →
file).

The content is a dict shaped like ``vae.livret.service.snapshot``: the frozen
``LivretSubmission.snapshot`` of a submitted edition, or the working copy of a draft, whose every
page then says "Brouillon — non soumis". Names of blocs, competences and criteria come from the
référentiel version of the parcours; user text always goes through ``esc``.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, PageBreak

from portal.pdf.annexes import Loaded, append_annexes, load
from portal.pdf.base import (
    AMBER,
    BOLD,
    CONTENT_WIDTH,
    MARGIN_TOP,
    MARGIN_X,
    PAGE_HEIGHT,
    DocInfo,
    _Document,
    fit,
    fr_date,
)
from portal.pdf.contents import Contents, ContentsCanvas
from portal.pdf.livret_parts import (
    DRAFT_MARK,
    TITLE,
    Entry,
    bloc_part,
    contents_of,
    contents_page,
    cover,
    profile,
    statement,
)
from portal.pdf.livret_plan import Plan
from vae.livret.models import Livret, LivretSubmission
from vae.livret.service import snapshot
from vae.people.models import Organisation, User
from vae.referentiel.model import Certification


def livret_pdf(
    *,
    livret: Livret,
    certification: Certification,
    candidate: User,
    employer: Organisation,
    annex_dir: Path,
    submission: LivretSubmission | None = None,
    generated_at: datetime,
) -> bytes:
    """The livret and its annexes as one PDF. Without ``submission``, a draft livret renders
    its working copy (marked as a draft), a submitted one its latest submitted edition."""
    if submission is None and not livret.editable and livret.submissions:
        submission = livret.submissions[-1]
    content = submission.snapshot if submission is not None else snapshot(livret)
    plan = Plan(
        certification=certification,
        candidate=f"{candidate.civility} {candidate.full_name}",
        candidate_id=candidate.id,
        employer=employer,
        content=content,
        submission=submission,
        edition=submission.edition if submission is not None else livret.edition,
        generated_at=generated_at,
    )
    plan.arrange({h.bloc_key: h for h in livret.parcours.held_blocs})
    files = [load(annex.file, annex_dir) for annex in plan.annexes]
    for annex, loaded in zip(plan.annexes, files, strict=True):
        annex.problem = loaded.problem
    document = _render(plan, files)
    return append_annexes(
        document,
        document_title="Livret",
        files=files,
        outline=plan.outline(),
    )


# --- rendering -------------------------------------------------------------------------------


class _LivretDocument(_Document):
    def __init__(self, buffer: io.BytesIO, info: DocInfo, *, contents: Contents, mark: str):
        super().__init__(buffer, info)
        self.contents = contents
        self.mark = mark  # drawn on top of every page, the cover included (drafts)

    def _decorate(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        super()._decorate(canvas, doc)
        if self.mark:
            canvas.saveState()
            canvas.setFont(BOLD, 8.5)
            canvas.setFillColor(AMBER)
            y = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
            canvas.drawString(MARGIN_X, y, fit(self.mark, CONTENT_WIDTH, 8.5, BOLD))
            canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:
        if not isinstance(flowable, Entry):
            super().afterFlowable(flowable)
            return
        # the reader jumps to the heading itself, not to the top of its page
        top = min(PAGE_HEIGHT, self.frame._y + flowable.height + 14)
        self.canv.bookmarkPage(flowable.key, fit="XYZ", top=top)
        self.canv.addOutlineEntry(flowable.outline, flowable.key, level=flowable.level)
        self.contents.pages[flowable.key] = self.page


def _render(plan: Plan, files: list[Loaded]) -> bytes:
    plan.place_annexes(files)
    certification = plan.certification
    where = f"CQP {certification.short} ({certification.code})"
    if plan.draft:
        header, mark = "", f"{DRAFT_MARK} · {TITLE} · {where} · édition {plan.edition}"
        state = "brouillon"
    else:
        assert plan.submission is not None
        submitted = fr_date(plan.submission.submitted_at.date())
        header, mark = f"{TITLE} · {where} · édition {plan.edition} soumise le {submitted}", ""
        state = f"édition {plan.edition}"
    info = DocInfo(
        title=f"{TITLE} – {plan.candidate} – CQP {certification.short} – {state}",
        subject=f"{TITLE} : {certification.title} ({certification.code})",
        footer=f"{plan.candidate} · {TITLE} · CQP {certification.short}",
        header=header,
        keywords=("livret 2", "VAE", f"CQP {certification.short}", certification.code),
    )
    contents = contents_of(plan)
    story: list[Flowable] = [*cover(plan), PageBreak(), *contents_page(contents), PageBreak()]
    story.extend(profile(plan))
    for bloc in plan.blocs:
        story.append(PageBreak())
        story.extend(bloc_part(bloc))
    story.append(PageBreak())
    story.extend(statement(plan))
    buffer = io.BytesIO()
    document = _LivretDocument(buffer, info, contents=contents, mark=mark)
    document.build(story, canvasmaker=functools.partial(ContentsCanvas, contents=contents))
    return buffer.getvalue()
