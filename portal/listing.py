"""Lists paged and searched in SQL: page numbers from the query string, the window of page
links, and an accent- and case-tolerant search of people by name and e-mail."""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, and_, func, or_

from vae.people.models import User

PAGE_SIZE = 50
MAX_SEARCH = 100  # characters of the search box kept
MAX_SEARCH_WORDS = 5  # each word must match the last name, the first name or the e-mail
# accented letters the search ignores the accents of (either case; ligatures œ/æ are not folded)
_ACCENTED = {
    "a": "àáâãäå",
    "c": "ç",
    "e": "èéêë",
    "i": "ìíîï",
    "n": "ñ",
    "o": "òóôõö",
    "u": "ùúûü",
    "y": "ýÿ",
}
_FROM = "".join(v + v.upper() for v in _ACCENTED.values())
_TO = "".join(base * (2 * len(v)) for base, v in _ACCENTED.items())


def _fold(text: str) -> str:
    """Lower case, accents dropped: what the search compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _glob_contains(word: str) -> str:
    """A SQLite GLOB pattern matching text containing ``word`` (folded), whatever the case and
    accents: each letter becomes the class of its forms (SQLite's lower() only folds ASCII)."""
    parts = []
    for ch in word:
        forms = ch + _ACCENTED.get(ch, "")
        forms += "".join(f.upper() for f in forms if len(f.upper()) == 1 and f.upper() != f)
        if len(forms) > 1 or ch in "*?[]":
            parts.append(f"[{forms}]")  # a literal ] stays literal as the first of a class
        else:
            parts.append(ch)
    return "*" + "".join(parts) + "*"


def _word_matches(column: ColumnElement[str], word: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        return column.op("GLOB")(_glob_contains(word))
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    folded: ColumnElement[str] = func.lower(column)
    if dialect == "postgresql":
        folded = func.translate(folded, _FROM, _TO)
    return folded.like(f"%{escaped}%", escape="\\")


def people_search_clause(query: str, dialect: str) -> ColumnElement[bool] | None:
    words = _fold(query).split()[:MAX_SEARCH_WORDS]
    if not words:
        return None
    columns = (User.last_name, User.first_name, User.email)
    return and_(*(or_(*(_word_matches(c, w, dialect) for c in columns)) for w in words))


def page_number(raw: str, pages: int) -> int:
    """The page asked for, within 1..pages: past the end is the last page; zero, negative or
    malformed is the first."""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    page = int(raw) if len(raw) <= 9 else pages  # no int() of thousands of digits
    return min(max(page, 1), pages)


def page_window(page: int, pages: int) -> list[int | None]:
    """The page numbers to link: first, last, and two either side of ``page`` (None: a gap)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window
