"""The text that replaces content anonymised at the end of the retention period.

Kept apart from ``vae.retention`` so that readers (the carnet's signature check, the PDFs) can
recognise anonymised content without importing the retention machinery.
"""

from __future__ import annotations

from datetime import date

MARKER_PREFIX = "[anonymisé le "


def marker(day: date) -> str:
    """``[anonymisé le 2027-03-01]``."""
    return f"{MARKER_PREFIX}{day.isoformat()}]"


def is_anonymised(text: str | None) -> bool:
    return bool(text) and str(text).startswith(MARKER_PREFIX)


def mentions_anonymised(content: object) -> bool:
    """Whether any text in a JSON-like structure (a frozen snapshot) was anonymised."""
    if isinstance(content, str):
        return is_anonymised(content)
    if isinstance(content, dict):
        return any(mentions_anonymised(v) for v in content.values())
    if isinstance(content, list | tuple):
        return any(mentions_anonymised(v) for v in content)
    return False
