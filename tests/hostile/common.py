"""Shared pieces of the hostile corpus: the tally the summary prints, raw request bodies (so
that nothing the HTTP client would escape is escaped), and reading a field's French message."""

from __future__ import annotations

import html
import re
from collections import Counter

# outcome of every case run in this session: "refused" (4xx) or "accepted" (stored as text,
# or as a file under a generated name); the summary test prints it.
TALLY: Counter[str] = Counter()
BOUNDARY = "----hostile-corpus-7f3a"


def note(case_id: str, status: int) -> None:
    TALLY["refused" if 400 <= status < 500 else "accepted"] += 1
    TALLY[f"case:{case_id}"] += 1


def multipart(
    fields: dict[str, str | bytes], file: tuple[bytes, bytes] | None = None
) -> tuple[bytes, dict[str, str]]:
    """A multipart body built byte by byte: ``file`` is (raw filename bytes, content)."""
    parts: list[bytes] = []
    for name, value in fields.items():
        raw = value if isinstance(value, bytes) else value.encode()
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + raw
            + b"\r\n"
        )
    if file is not None:
        filename, data = file
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
            + filename
            + b'"\r\nContent-Type: application/pdf\r\n\r\n'
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def error_of(page: str, field_id: str) -> str:
    """The message next to the field whose error paragraph id ends with ``{field_id}-error``."""
    match = re.search(
        rf'<p class="error-message" id="[^"]*{re.escape(field_id)}-error">(.*?)</p>', page, re.S
    )
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def first_error(page: str) -> str:
    """The first error message on the page, wherever it sits."""
    match = re.search(
        r'<p (?:class="error-message"|class="alert error"|id="error-detail")[^>]*>(.*?)</p>',
        page,
        re.S,
    )
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


FRENCH = re.compile(
    r"\b(le|la|les|ce|cette|un|une|des|du|de|votre|vos|pas|est|au|aux|saisissez|choisissez|"
    r"indiquez)\b",
    re.I,
)


def looks_french(message: str) -> bool:
    return bool(message) and bool(FRENCH.search(message)) and "error" not in message.lower()
