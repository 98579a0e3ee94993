"""Is an uploaded annex a plain, readable PDF we are willing to keep and serve?

Cheap checks run first (empty, size, magic bytes, data after the end of the PDF). Then the file
is parsed in full by pypdf in strict mode (every object of the cross-reference table, every
page, the decompressed size of every page content stream) in a child Python process with
memory, CPU-time and wall-clock limits: a hostile file (decompression bomb, pathological
structure, parser bug) can only make that child fail, never the server.

Every refusal is an ``AnnexRefused`` carrying a French message that says why. The file name is
metadata only (shown and sent back in Content-Disposition), never a path on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import subprocess  # noqa: S404 - the probe child: fixed argv, no shell
import sys
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024  # per file ("10 Mo")
MAX_PAGES = 200
MAX_NAME_CHARS = 120
MAX_INFLATED_BYTES = 100 * 1024 * 1024  # page content streams of one file, once decompressed
MAX_OBJECT_NODES = 2_000_000  # dictionaries, arrays and values walked in one file
PROBE_WALL_SECONDS = 30
PROBE_CPU_SECONDS = 20
PROBE_MEMORY_BYTES = 1024 * 1024 * 1024
_CHUNK = 64 * 1024
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]

MESSAGES = {
    "empty": "Ce fichier est vide.",
    "too_big": "Le fichier dépasse 10 Mo{size} : réduisez-le (numérisation en 150 ppp) "
    "ou scindez-le en plusieurs annexes.",
    "not_pdf": "Ce fichier n'est pas un PDF{kind} : enregistrez-le ou exportez-le au format PDF "
    "avant de le joindre.",
    "trailing": "Ce fichier contient d'autres données après la fin du PDF (fichier hybride) : "
    "réenregistrez-le avec « Imprimer en PDF » avant de le joindre.",
    "encrypted": "Ce PDF est protégé par un mot de passe : enregistrez-le sans protection.",
    "encrypted_empty": "Ce PDF est chiffré (protection contre la copie ou l'impression), même "
    "s'il s'ouvre sans mot de passe : enregistrez-le sans protection.",
    "corrupt": "Ce PDF est endommagé ou incomplet (téléchargement interrompu ?) : il n'a pas pu "
    "être lu en entier. Réenregistrez-le ou exportez-le de nouveau.",
    "no_pages": "Ce PDF ne contient aucune page.",
    "too_many_pages": "Ce PDF compte {pages} pages : 200 pages au plus par fichier. "
    "Scindez-le en plusieurs annexes.",
    "active": "Ce PDF contient du code (JavaScript, lancement de programme ou formulaire "
    "dynamique) : ce n'est pas accepté. Réenregistrez-le avec « Imprimer en PDF » pour "
    "obtenir une version sans script.",
    "embedded": "Ce PDF contient des fichiers joints : ce n'est pas accepté. Joignez chaque "
    "document séparément, au format PDF.",
    "bomb": "Ce PDF contient un contenu démesuré une fois décompressé (plus de 100 Mo) : "
    "il n'est pas accepté.",
    "complex": "Ce PDF est trop complexe pour être vérifié : réenregistrez-le avec "
    "« Imprimer en PDF » ou scindez-le.",
    "unavailable": "Le fichier n'a pas pu être vérifié pour le moment : réessayez dans quelques "
    "minutes.",
}

# What a file that is not a PDF usually is, to say so in the message.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"II*\x00", "une image TIFF"),
    (b"MM\x00*", "une image TIFF"),
    (b"PK\x03\x04", "une archive ZIP ou un document Word, Excel ou LibreOffice"),
    (b"\xd0\xcf\x11\xe0", "un document Word ou Excel"),
    (b"{\\rtf", "un document RTF"),
)
_HTML = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<\?xml|<svg|<script)", re.IGNORECASE)

_ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/RichMedia", "/RichMediaExecute", "/ImportData"}
)
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/XFA", "/RichMediaContent"})
_EMBEDDED_KEYS = frozenset({"/EmbeddedFiles", "/EF"})
_EMBEDDED_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment"})
_FLATE = frozenset({"/FlateDecode", "/Fl"})


class AnnexRefused(ValueError):
    """A file we do not keep; ``str(error)`` is the French message for the person."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class PdfFacts:
    pages: int
    sha256: str
    size: int
    clean_name: str


def refuse(code: str, **params: Any) -> AnnexRefused:
    return AnnexRefused(MESSAGES[code].format(**params), code=code)


def format_size(size: int) -> str:
    """A size in French, rounded up: "850 Ko", "12,4 Mo" (10 Mo + 1 byte is "10,1 Mo")."""
    if size < 1024 * 1024:
        return f"{max(1, -(-size // 1024))} Ko"
    tenths = -(-size * 10 // (1024 * 1024))
    return f"{tenths // 10},{tenths % 10} Mo"


# --- the file name: metadata only ----------------------------------------------------------


def clean_filename(filename: str) -> str:
    """The name to show: no path, no control or bidi characters, at most 120 characters, .pdf."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        " " if unicodedata.category(ch) in ("Zl", "Zp") else ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    name = re.sub(r"\s+", " ", name).strip()
    has_extension = name.lower().endswith(".pdf")
    stem, extension = (name[:-4], name[-4:]) if has_extension else (name, ".pdf")
    stem = stem.lstrip(" .")[: MAX_NAME_CHARS - len(extension)].rstrip(" .")
    return (stem or "annexe") + extension


# --- cheap checks --------------------------------------------------------------------------


def check_size(size: int) -> None:
    if size == 0:
        raise refuse("empty")
    if size > MAX_FILE_BYTES:
        raise refuse("too_big", size=f" (il fait {format_size(size)})")


def check_envelope(data: bytes) -> None:
    """Size, magic bytes, nothing after the last ``%%EOF`` (a PDF + ZIP or HTML polyglot)."""
    check_size(len(data))
    if not data.startswith(b"%PDF-"):
        kind = next((label for magic, label in _SIGNATURES if data.startswith(magic)), "")
        if not kind and _HTML.match(data[:1024].lstrip(b"\xef\xbb\xbf")):
            kind = "une page web HTML"
        raise refuse("not_pdf", kind=f", c'est {kind}" if kind else "")
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise refuse("corrupt")
    if data[end + 5 :].strip(b" \t\r\n\f\x00"):
        raise refuse("trailing")


def check_pdf(data: bytes, filename: str, *, isolated: bool = True) -> PdfFacts:
    """Check an upload; raise ``AnnexRefused`` with the reason, or return its facts.

    ``isolated=False`` parses in this process (only for tools and tests that trust their input
    to be bounded); the default runs the parse in a limited child process.
    """
    clean_name = clean_filename(filename)
    check_envelope(data)
    result = _probe_in_child(data) if isolated else probe(data)
    if "refused" in result:
        raise refuse(str(result["refused"]), **result.get("params", {}))
    return PdfFacts(
        pages=int(result["pages"]),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        clean_name=clean_name,
    )


# --- the child process ---------------------------------------------------------------------

_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from vae.livret.pdfcheck import child_main; child_main()"
)


def _probe_in_child(data: bytes) -> dict[str, Any]:
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code, data on stdin
            [sys.executable, "-I", "-c", _CHILD, str(_PACKAGE_ROOT)],
            input=data,
            capture_output=True,
            timeout=PROBE_WALL_SECONDS,
            check=False,
            env={"LC_ALL": "C.UTF-8"},
        )
    except subprocess.TimeoutExpired:
        return {"refused": "complex"}
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        result = {}
    if "refused" in result and result["refused"] in MESSAGES:
        return result
    if isinstance(result.get("pages"), int):
        return result
    if done.returncode < 0:  # killed by a limit (SIGXCPU, SIGKILL, SIGSEGV)
        return {"refused": "complex"}
    log.error("PDF probe failed (exit %s): %s", done.returncode, done.stderr[-2000:])
    return {"refused": "unavailable"}


def child_main() -> None:
    """Entry point of the probe child: limits first, then the PDF from stdin, JSON to stdout."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        cpu = PROBE_CPU_SECONDS
        resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY_BYTES, PROBE_MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    logging.disable(logging.CRITICAL)
    data = sys.stdin.buffer.read()
    sys.stdout.write(json.dumps(probe(data)))
    sys.stdout.flush()


# --- the full parse ------------------------------------------------------------------------


class _Refusal(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def probe(data: bytes) -> dict[str, Any]:
    """Parse ``data`` in full: ``{"pages": n}`` or ``{"refused": code, "params": {...}}``.

    No exception escapes: whatever the parser raises on a hostile file is a refusal.
    """
    from pypdf.errors import FileNotDecryptedError, LimitReachedError

    try:
        with _limits():
            return {"pages": _inspect(data)}
    except _Refusal as refusal:
        return {"refused": refusal.code, "params": refusal.params}
    except FileNotDecryptedError:
        return {"refused": "encrypted"}
    except (LimitReachedError, MemoryError, RecursionError):
        return {"refused": "complex"}
    except Exception:  # every parser error on a broken file: PdfReadError, KeyError, zlib…
        return {"refused": "corrupt"}


def _limits() -> contextlib.AbstractContextManager[Any]:
    import pypdf

    apply = getattr(pypdf, "apply_configuration", None)  # pypdf >= 6.4
    if apply is None:
        return contextlib.nullcontext()
    return apply(  # type: ignore[no-any-return]
        disable_legacy_handling=True,
        maximum_declared_stream_length=MAX_FILE_BYTES,
        zlib_maximum_output_length=MAX_INFLATED_BYTES,
        lzw_maximum_output_length=MAX_INFLATED_BYTES,
        run_length_maximum_output_length=MAX_INFLATED_BYTES,
        brotli_maximum_output_length=MAX_INFLATED_BYTES,
        jbig2_maximum_output_length=MAX_INFLATED_BYTES,
        array_based_stream_maximum_output_length=MAX_INFLATED_BYTES,
        stream_decoding_work_maximum_length=MAX_INFLATED_BYTES,
        jbig2dec_binary=None,
    )


def _inspect(data: bytes) -> int:
    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data), strict=True)
    if reader.is_encrypted:
        raise _Refusal("encrypted_empty" if _opens_without_password(reader) else "encrypted")
    _scan_objects(reader)
    pages = len(reader.pages)
    if pages == 0:
        raise _Refusal("no_pages")
    if pages > MAX_PAGES:
        raise _Refusal("too_many_pages", pages=pages)
    budget = MAX_INFLATED_BYTES
    seen: set[tuple[int, int]] = set()
    for page in reader.pages:
        _ = page.mediabox  # required (inherited or not): strict pypdf raises when missing
        for stream in _content_streams(page):
            ref = stream.indirect_reference
            key = (ref.idnum, ref.generation) if ref is not None else (-1, id(stream))
            if key in seen:
                continue
            seen.add(key)
            budget -= _decoded_size(stream, budget)
    return pages


def _opens_without_password(reader: Any) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # unsupported algorithm or missing crypto library: still encrypted
        return False


def _scan_objects(reader: Any) -> None:
    """Resolve every object of the cross-reference table (strict: a broken one raises) and
    look inside each for scripts, launch actions, dynamic forms and embedded files."""
    from pypdf.generic import IndirectObject

    refs = [
        (idnum, generation)
        for generation, entries in reader.xref.items()
        for idnum in entries
        if not reader.xref_free_entry.get(generation, {}).get(idnum, False)
    ]
    refs += [(idnum, 0) for idnum in reader.xref_objStm]
    nodes = 0
    for idnum, generation in refs:
        if idnum == 0:
            continue
        obj = reader.get_object(IndirectObject(idnum, generation, reader))
        nodes = _scan(obj, nodes)
    _scan(reader.trailer, nodes)


def _scan(root: Any, nodes: int) -> int:
    """Walk the direct values under ``root`` (references are walked on their own)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    stack = [root]
    while stack:
        obj = stack.pop()
        nodes += 1
        if nodes > MAX_OBJECT_NODES:
            raise _Refusal("complex")
        if isinstance(obj, IndirectObject):
            continue
        if isinstance(obj, DictionaryObject):
            keys = {str(k) for k in obj}
            kind = {_name(obj, "/S"), _name(obj, "/Type"), _name(obj, "/Subtype")}
            if keys & _ACTIVE_KEYS or kind & _ACTIVE_ACTIONS:
                raise _Refusal("active")
            if keys & _EMBEDDED_KEYS or kind & _EMBEDDED_TYPES:
                raise _Refusal("embedded")
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return nodes


def _name(obj: Any, key: str) -> str:
    value = obj.get(key)
    return "" if value is None else str(value.get_object())


def _content_streams(page: Any) -> list[Any]:
    from pypdf.generic import ArrayObject, StreamObject

    contents = page.get("/Contents")
    if contents is None:
        return []  # a blank page
    contents = contents.get_object()
    items = [c.get_object() for c in contents] if isinstance(contents, ArrayObject) else [contents]
    if not all(isinstance(item, StreamObject) for item in items):
        raise _Refusal("corrupt")
    return items


def _decoded_size(stream: Any, budget: int) -> int:
    """The size of a content stream once decoded, counted without holding it in memory."""
    filters = stream.get("/Filter")
    filters = filters.get_object() if filters is not None else []
    names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]
    raw: bytes = stream._data  # the stored (encoded) bytes
    if not names:
        size = len(raw)
    elif len(names) <= 4 and all(name in _FLATE for name in names):
        size = 0
        chunks: Iterable[bytes] = [raw]
        for _ in names:
            chunks = _inflate(chunks)
        for chunk in chunks:
            size += len(chunk)
            if size > budget:
                raise _Refusal("bomb")
    else:  # other filters: pypdf decodes, within the limits set in ``_limits``
        size = len(stream.get_data())
    if size > budget:
        raise _Refusal("bomb")
    return size


def _inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Inflate a zlib stream piece by piece: at most ``_CHUNK`` bytes of output at a time."""
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)
    for chunk in chunks:
        pending = chunk
        while pending and not decoder.eof:
            out = decoder.decompress(pending, _CHUNK)
            pending = decoder.unconsumed_tail
            if out:
                yield out
        if decoder.eof:
            return
    while not decoder.eof:
        out = decoder.decompress(b"", _CHUNK)
        if not out:
            break
        yield out
