"""What every PDF of the platform shares: fonts, styles, page template, "Page N sur M", outline.

The DejaVu fonts are registered once, at import: parsing a TTF file costs more than rendering a
page, and reportlab keeps registered fonts process-wide. Each document embeds the subset of
glyphs it uses (accents, "œ", "✓"…).

A document is a list of platypus flowables given to ``render`` with its ``DocInfo``. Every
string a user typed goes through ``esc`` before it enters Paragraph markup.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
AUTHOR = "Plateforme CQP"


def _cached_font(name: str, path: Path) -> TTFont:
    """A TTF font whose word widths are memoised: platypus measures the same words over and over
    while it breaks lines, and reportlab's pure-Python measure dominates the render time."""
    font = TTFont(name, str(path))
    measure = font.stringWidth
    font.stringWidth = functools.lru_cache(maxsize=65536)(measure)  # type: ignore[method-assign]
    return font


def _register_fonts() -> None:
    pdfmetrics.registerFont(_cached_font(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(_cached_font(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    # No italic face is shipped: <i> falls back to the upright faces rather than failing.
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
    )


_register_fonts()
# Binary streams instead of ASCII85: smaller files, less work (every reader handles them).
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

NAVY = colors.HexColor("#1F3A5F")
GREY = colors.HexColor("#5A6270")
RULE = colors.HexColor("#B8C2CF")
SHADE = colors.HexColor("#EEF2F7")
GREEN = colors.HexColor("#1B6B3A")
AMBER = colors.HexColor("#8A5300")
RED = colors.HexColor("#B00020")


def _style(name: str, **kw: Any) -> ParagraphStyle:
    base: dict[str, Any] = {"fontName": REGULAR, "fontSize": 9, "leading": 12}
    return ParagraphStyle(name, **(base | kw))


class Styles:
    """The paragraph styles every document uses (shared, never mutated)."""

    title = _style("title", fontName=BOLD, fontSize=19, leading=24, textColor=NAVY, spaceAfter=4)
    subtitle = _style("subtitle", fontSize=11, leading=15, textColor=NAVY, spaceAfter=12)
    h1 = _style(
        "h1",
        fontName=BOLD,
        fontSize=12.5,
        leading=16,
        textColor=colors.white,
        backColor=NAVY,
        borderPadding=(4, 6),
        leftIndent=6,
        rightIndent=6,
        spaceBefore=4,
        spaceAfter=10,
        keepWithNext=1,
    )
    h2 = _style(
        "h2",
        fontName=BOLD,
        fontSize=10.5,
        leading=13.5,
        textColor=NAVY,
        spaceBefore=12,
        spaceAfter=3,
        keepWithNext=1,
    )
    h3 = _style(
        "h3", fontName=BOLD, fontSize=9, leading=12, spaceBefore=7, spaceAfter=2, keepWithNext=1
    )
    body = _style("body", spaceAfter=3)
    field = _style("field", leftIndent=10, spaceAfter=2)
    small = _style("small", fontSize=8, leading=10.5, spaceAfter=2)
    muted = _style("muted", fontSize=8, leading=10.5, textColor=GREY, leftIndent=10, spaceAfter=2)
    note = _style(
        "note",
        backColor=SHADE,
        borderPadding=6,
        leftIndent=6,
        rightIndent=6,
        spaceBefore=8,
        spaceAfter=10,
    )
    cell = _style("cell", fontSize=8.5, leading=10.5)
    cell_head = _style("cell_head", fontName=BOLD, fontSize=8.5, leading=10.5)
    ok = _style("ok", fontName=BOLD, textColor=GREEN, spaceAfter=2)
    warn = _style("warn", fontName=BOLD, textColor=AMBER, spaceAfter=2)
    alert = _style("alert", fontName=BOLD, textColor=RED, spaceAfter=2)


STYLES = Styles

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def esc(text: object) -> str:
    """User text → Paragraph markup: escaped, control characters dropped, line breaks kept."""
    if text is None:
        return ""
    value = _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    return escape(value, {'"': "&quot;"}).replace("\n", "<br/>")


_NBSP_BEFORE = re.compile(r" ([:;!?»%])")
_NBSP_AFTER = re.compile(r"« ")


def french_spacing(markup: str) -> str:
    """No line break inside « … » nor before : ; ! ? %: French typography, on markup."""
    return _NBSP_AFTER.sub("«\u00a0", _NBSP_BEFORE.sub("\u00a0\\1", markup))


def para(markup: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(french_spacing(markup), style)


def fr_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else "—"


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, the platform's storage convention."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def fr_datetime(moment: datetime | None, *, seconds: bool = False) -> str:
    if moment is None:
        return "—"
    moment = as_utc(moment)
    return moment.strftime("%d/%m/%Y à %H:%M:%S UTC" if seconds else "%d/%m/%Y à %H:%M UTC")


def fit(text: str, width: float, size: float, font: str = REGULAR) -> str:
    """Plain text cut with "…" to fit ``width`` points (running header and footer lines)."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


# --- tables --------------------------------------------------------------------------------

GRID = [
    ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),  # else cells switch to Helvetica (not embedded)
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ("LEFTPADDING", (0, 0), (-1, -1), 4),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]

# A row taller than what is left of the page is split inside the row (a very long user text
# would otherwise fail the whole document) only when each part keeps at least this much height;
# shorter rows move to the next page whole.
SPLIT_IN_ROW = 36


def cells(values: Iterable[str], style: ParagraphStyle = STYLES.cell) -> list[Paragraph]:
    """Markup strings (already escaped) → table cells that wrap."""
    return [para(v, style) for v in values]


def key_values(rows: Sequence[tuple[str, str]], *, key_width: float = 48 * mm) -> Table:
    """A two-column table: bold label, value markup (already escaped)."""
    table = Table(
        [[para(k, STYLES.cell_head), para(v, STYLES.cell)] for k, v in rows],
        colWidths=[key_width, CONTENT_WIDTH - key_width],
        hAlign="LEFT",
        splitInRow=SPLIT_IN_ROW,
    )
    table.setStyle(TableStyle(GRID))
    return table


def grid(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    """A table with a shaded header row repeated on every page it spans."""
    table = Table(
        [cells(header, STYLES.cell_head), *(cells(r) for r in rows)],
        colWidths=list(widths),
        repeatRows=1,
        hAlign="LEFT",
        splitInRow=SPLIT_IN_ROW,
    )
    table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), SHADE)]))
    return table


def boxed(flowables: list[Flowable], *, border: colors.Color = RULE) -> Table:
    """Short content in a light box (signature evidence). Keep it bounded: a table row never
    splits across pages."""
    table = Table([[flowables]], colWidths=[CONTENT_WIDTH - 10], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
                ("BOX", (0, 0), (-1, -1), 0.6, border),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F7F9FB")),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


class Heading(Paragraph):
    """A paragraph that also becomes an entry of the PDF outline (the reader's bookmarks)."""

    def __init__(self, text: str, style: ParagraphStyle, *, outline: str, level: int) -> None:
        super().__init__(text, style)
        self.outline_title = outline
        self.outline_level = level

    def split(self, availWidth: float, availHeight: float) -> list[Any]:  # noqa: N803
        # A heading is never cut in two: it moves whole to the next page (reportlab would
        # otherwise rebuild it as a plain Paragraph without its outline entry).
        return []


# --- document ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocInfo:
    title: str
    subject: str
    footer: str  # running footer, left: whose document it is
    header: str = ""  # running header from page 2 on
    keywords: tuple[str, ...] = ()


class PagedCanvas(Canvas):
    """Holds every page until the end, then stamps "Page N sur M" on each.

    Bookmarks are deferred with the page they belong to: the PDF page they point to only exists
    once the page is really emitted.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict[str, Any]] = []
        self._page_bookmarks: list[tuple[str, dict[str, Any]]] = []

    def bookmarkPage(self, key: str, **kwargs: Any) -> None:
        self._page_bookmarks.append((key, kwargs))

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()
        self._page_bookmarks = []

    def save(self) -> None:
        total = len(self._held_pages)
        for state in self._held_pages:
            self.__dict__.update(state)
            for key, kwargs in self._page_bookmarks:
                Canvas.bookmarkPage(self, key, **kwargs)
            self.setFont(REGULAR, 8)
            self.setFillColor(GREY)
            self.drawRightString(
                PAGE_WIDTH - MARGIN_X,
                MARGIN_BOTTOM - 11 * mm,
                f"Page {self._pageNumber} sur {total}",
            )
            Canvas.showPage(self)
        Canvas.save(self)


class _Document(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, info: DocInfo) -> None:
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=info.title,
            author=AUTHOR,
            subject=info.subject,
            creator=AUTHOR,
            keywords=list(info.keywords),
            lang="fr-FR",
            initialFontName=REGULAR,  # else every page references Helvetica, not embedded
            initialFontSize=9,
        )
        self.info = info
        self._outline_keys = 0
        frame = Frame(
            MARGIN_X,
            MARGIN_BOTTOM,
            CONTENT_WIDTH,
            PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._decorate)])

    def _decorate(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(GREY)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        foot_y = MARGIN_BOTTOM - 11 * mm
        canvas.line(MARGIN_X, foot_y + 10, PAGE_WIDTH - MARGIN_X, foot_y + 10)
        # the right end of the footer line is kept for "Page N sur M"
        canvas.drawString(MARGIN_X, foot_y, fit(self.info.footer, CONTENT_WIDTH - 90, 8))
        if self.info.header and canvas.getPageNumber() > 1:
            head_y = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
            canvas.drawString(MARGIN_X, head_y, fit(self.info.header, CONTENT_WIDTH, 8))
            canvas.line(MARGIN_X, head_y - 4, PAGE_WIDTH - MARGIN_X, head_y - 4)
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:
        title = getattr(flowable, "outline_title", None)
        if title is None:
            return
        self._outline_keys += 1
        key = f"o{self._outline_keys}"
        # the reader jumps to the heading itself, not to the top of its page
        top = min(PAGE_HEIGHT, self.frame._y + flowable.height + 14)
        self.canv.bookmarkPage(key, fit="XYZ", top=top)
        self.canv.addOutlineEntry(title, key, level=flowable.outline_level, closed=True)


def render(story: list[Flowable], info: DocInfo) -> bytes:
    buffer = io.BytesIO()
    document = _Document(buffer, info)
    document.build(story, canvasmaker=PagedCanvas)
    return buffer.getvalue()
