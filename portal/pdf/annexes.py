"""PDF files appended after a generated document, with an outline (pypdf).

Each file is read from disk, checked against the SHA-256 recorded when it was uploaded, and
parsed. A file that is missing, altered or unreadable never fails the document: one page saying
"Annexe indisponible" (and why) takes its place, and the problem is logged.

Appended pages are defused: actions that run on opening a page or clicking an annotation
(JavaScript, launching a program, submitting a form…) are removed; links to a web address and
the visible content stay.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame

from portal.pdf.base import (
    AUTHOR,
    CONTENT_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PAGE_HEIGHT,
    RED,
    REGULAR,
    STYLES,
    esc,
    para,
)

log = logging.getLogger(__name__)
UNAVAILABLE = ParagraphStyle("unavailable", parent=STYLES.title, textColor=RED)

UNSAFE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/ResetForm", "/GoToR", "/GoToE"}
)


@dataclass(frozen=True, slots=True)
class AnnexFile:
    """A file to append. ``heading`` names it on the replacement page if it is unavailable."""

    title: str  # outline title
    heading: str
    stored_name: str
    sha256: str  # expected digest; "" skips the check
    details: tuple[str, ...] = ()  # lines describing it (situation, size…), replacement page


@dataclass
class Loaded:
    annex: AnnexFile
    reader: PdfReader
    problem: str = ""  # French, set when ``reader`` is the replacement page

    @property
    def pages(self) -> int:
        return len(self.reader.pages)


@dataclass
class OutlineNode:
    """A node of the "Annexes" outline: a group (bloc, situation) or a file (``index``)."""

    title: str
    children: list[OutlineNode] = field(default_factory=list)
    index: int | None = None  # position of the file in the list given to ``append_annexes``


def load(annex: AnnexFile, folder: Path) -> Loaded:
    problem = _problem(annex, folder)
    if isinstance(problem, PdfReader):
        return Loaded(annex, problem)
    log.warning("annex %s unavailable: %s", annex.stored_name, problem)
    return Loaded(annex, PdfReader(io.BytesIO(unavailable_page(annex, problem))), problem)


def _problem(annex: AnnexFile, folder: Path) -> PdfReader | str:
    name = annex.stored_name
    if not name or Path(name).name != name or name.startswith("."):
        return "nom de fichier enregistré invalide"
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError:
        return "fichier introuvable sur le serveur"
    except OSError as error:
        return f"fichier illisible ({error.strerror or 'erreur de lecture'})"
    if annex.sha256 and hashlib.sha256(data).hexdigest() != annex.sha256.lower():
        return "le fichier ne correspond plus à l'empreinte SHA-256 enregistrée au dépôt"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return "fichier chiffré"
        if len(reader.pages) == 0:
            return "fichier sans page"
    except Exception:  # pypdf raises many kinds on broken files: none may fail the document
        log.exception("annex %s: pypdf cannot read it", name)
        return "fichier PDF illisible"
    return reader


def unavailable_page(annex: AnnexFile, problem: str) -> bytes:
    """One A4 page standing in for a file that cannot be appended."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName=REGULAR)
    canvas.setTitle("Annexe indisponible")
    canvas.setAuthor(AUTHOR)
    story = [
        para("Annexe indisponible", UNAVAILABLE),
        para(esc(annex.heading), STYLES.h2),
        para(f"<b>Motif</b> : {esc(problem)}.", STYLES.body),
        *(para(esc(line), STYLES.body) for line in annex.details),
        para(
            "Cette page remplace le fichier dans le document ; l'incident est journalisé.",
            STYLES.note,
        ),
    ]
    height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    Frame(MARGIN_X, MARGIN_BOTTOM, CONTENT_WIDTH, height).addFromList(story, canvas)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def append_annexes(
    document: bytes,
    *,
    document_title: str,
    files: Sequence[Loaded],
    outline: Sequence[OutlineNode],
    annexes_title: str = "Annexes",
) -> bytes:
    """``document`` (its outline nested under ``document_title``), then every file in order,
    with the ``outline`` nested under ``annexes_title``, each node pointing at its first page."""
    main = PdfReader(io.BytesIO(document))
    writer = PdfWriter()
    writer.append(main, outline_item=document_title)
    first_pages, page = [], len(main.pages)
    for loaded in files:
        first_pages.append(page)
        writer.append(loaded.reader, import_outline=False)
        for index in range(page, page + loaded.pages):
            _defuse(writer.pages[index])
        page += loaded.pages
    if files:
        root = writer.add_outline_item(title=annexes_title, page_number=len(main.pages))
        for node in outline:
            _outline(writer, node, root, first_pages)
    if main.metadata:
        writer.add_metadata({k: v for k, v in main.metadata.items()})
    writer.root_object[NameObject("/Lang")] = TextStringObject("fr-FR")
    writer.page_mode = "/UseOutlines"
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _first_index(node: OutlineNode) -> int | None:
    if node.index is not None:
        return node.index
    found = (_first_index(child) for child in node.children)
    return next((i for i in found if i is not None), None)


def _outline(
    writer: PdfWriter, node: OutlineNode, parent: IndirectObject, first_pages: list[int]
) -> None:
    index = _first_index(node)
    if index is None:
        return  # a group without any file: nothing to point at
    item = writer.add_outline_item(title=node.title, page_number=first_pages[index], parent=parent)
    for child in node.children:
        _outline(writer, child, item, first_pages)


def _defuse(page: Any) -> None:
    """Drop what could run code or reach out when the page is opened or clicked."""
    page.pop(NameObject("/AA"), None)
    annotations = page.get("/Annots")
    if annotations is None:
        return
    kept = []
    for ref in annotations.get_object():
        annotation = ref.get_object()
        if not isinstance(annotation, DictionaryObject):
            continue
        annotation.pop(NameObject("/AA"), None)
        action = annotation.get("/A")
        kind = action.get_object().get("/S") if action is not None else None
        if kind in UNSAFE_ACTIONS:
            continue
        kept.append(ref)
    if len(kept) != len(annotations.get_object()):
        page[NameObject("/Annots")] = ArrayObject(kept)
