"""A table of contents whose page numbers are written when the document is saved: one pass.

reportlab's ``TableOfContents`` needs ``multiBuild``, hence at least two full renderings. Here the
entries are known before rendering (the caller builds the headings), only their page numbers are
not: each contents line ends with an ``<onDraw>`` mark recording where its number goes, the
document records on which page each destination lands, and ``ContentsCanvas`` (which holds every
page anyway for "Page N sur M") writes the numbers, with dot leaders, before emitting the pages.

An entry points either at a destination of the document (``key``) or at a page counted from the
end of the document (``after_end``): the annexes merged after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from portal.pdf.base import BOLD, CONTENT_WIDTH, MARGIN_X, NAVY, REGULAR, PagedCanvas, para

CALLBACK = "contents_line_end"
NUMBER_COLUMN = 34  # points kept free on the right of every line for its page number


@dataclass(frozen=True, slots=True)
class ContentsEntry:
    level: int  # 0 for parts, 1 and 2 for what they hold
    markup: str  # Paragraph markup, user text already escaped
    key: str | None = None  # destination in the document (a heading's bookmark key)
    after_end: int | None = None  # else: the n-th page after the document's last page (1 = next)


@dataclass
class Contents:
    entries: list[ContentsEntry] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)  # key → page, filled while rendering

    def add(self, entry: ContentsEntry) -> None:
        self.entries.append(entry)

    def page_of(self, entry: ContentsEntry, total: int) -> int | None:
        if entry.key is not None:
            return self.pages.get(entry.key)
        return None if entry.after_end is None else total + entry.after_end

    def flowables(self) -> list[Paragraph]:
        lines = []
        for index, entry in enumerate(self.entries):
            text = entry.markup
            if entry.key is not None:
                text = f'<a href="#{entry.key}">{text}</a>'
            mark = f'<onDraw name="{CALLBACK}" label="{index}"/>'
            lines.append(para(text + mark, LEVEL_STYLES[min(entry.level, 2)]))
        return lines


def _level(name: str, **kw: Any) -> ParagraphStyle:
    base: dict[str, Any] = {
        "fontName": REGULAR,
        "fontSize": 9,
        "leading": 12,
        "rightIndent": NUMBER_COLUMN,
        "spaceAfter": 1,
    }
    return ParagraphStyle(name, **(base | kw))


LEVEL_STYLES = (
    _level("contents0", fontName=BOLD, fontSize=10, leading=13, textColor=NAVY, spaceBefore=7),
    _level("contents1", leftIndent=14),
    _level("contents2", fontSize=8.5, leading=11, leftIndent=28),
)


class ContentsCanvas(PagedCanvas):
    """``PagedCanvas`` that also writes the page numbers of a ``Contents`` on its lines."""

    def __init__(self, *args: Any, contents: Contents, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contents = contents
        self._contents_marks: list[tuple[int, float, float]] = []
        self.setNamedCB(CALLBACK, ContentsCanvas._mark)

    @staticmethod
    def _mark(canvas: Canvas, kind: str, label: str | None) -> None:
        """Where a contents line's text ends, in page coordinates (the paragraph is drawn in a
        translated space)."""
        assert isinstance(canvas, ContentsCanvas) and label is not None
        info = canvas._curr_tx_info
        a, b, c, d, e, f = canvas._currentMatrix
        x, y = info["cur_x"], info["cur_y"]
        canvas._contents_marks.append((int(label), a * x + c * y + e, b * x + d * y + f))

    def showPage(self) -> None:
        super().showPage()  # the page's state, marks included, is held until ``save``
        self._contents_marks = []

    def save(self) -> None:
        total = len(self._held_pages)
        for state in self._held_pages:
            marks = state.get("_contents_marks")
            if marks:
                self.__dict__.update(state)  # drawing appends to that page's own content
                for index, x, y in marks:
                    self._number(self.contents.entries[index], x, y, total)
        super().save()

    def _number(self, entry: ContentsEntry, x: float, y: float, total: int) -> None:
        page = self.contents.page_of(entry, total)
        text = "?" if page is None else str(page)
        style = LEVEL_STYLES[min(entry.level, 2)]
        size = style.fontSize
        right = MARGIN_X + CONTENT_WIDTH
        number_x = right - stringWidth(text, style.fontName, size)
        dot_width = stringWidth(". ", REGULAR, size)
        dots = int((number_x - x - 6) / dot_width)
        self.saveState()
        self.setFillColor(style.textColor)
        if dots > 0:
            self.setFont(REGULAR, size)
            self.drawRightString(number_x - 3, y, ". " * dots)
        self.setFont(style.fontName, size)
        self.drawString(number_x, y, text)
        self.restoreState()
