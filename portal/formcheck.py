"""Refuse a form whose text is not UTF-8, before Starlette decodes it leniently.

Starlette turns undecodable bytes into U+FFFD (URL-encoded bodies) or falls back to Latin-1
(multipart): the text would be stored garbled. Files are bytes, not text: only the fields
without a file name are checked.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from python_multipart.multipart import MultipartParser, parse_options_header


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _urlencoded_ok(body: bytes) -> bool:
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            if not _utf8(unquote_to_bytes(part.replace(b"+", b" "))):
                return False
    return True


def _multipart_ok(boundary: bytes, body: bytes) -> bool:
    state = {"ok": True, "file": False, "field": b"", "value": b""}
    data = bytearray()

    def on_part_begin() -> None:
        state["file"] = False
        data.clear()

    def on_header_field(chunk: bytes, start: int, end: int) -> None:
        state["field"] += chunk[start:end]

    def on_header_value(chunk: bytes, start: int, end: int) -> None:
        state["value"] += chunk[start:end]

    def on_header_end() -> None:
        if bytes(state["field"]).lower() == b"content-disposition":  # type: ignore[arg-type]
            _, options = parse_options_header(bytes(state["value"]))  # type: ignore[arg-type]
            state["file"] = b"filename" in options
            if not _utf8(options.get(b"name", b"")):
                state["ok"] = False
        state["field"], state["value"] = b"", b""

    def on_part_data(chunk: bytes, start: int, end: int) -> None:
        if not state["file"]:
            data.extend(chunk[start:end])

    def on_part_end() -> None:
        if not state["file"] and not _utf8(bytes(data)):
            state["ok"] = False

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # a malformed body: Starlette's own parser will answer it
        return True
    return bool(state["ok"])


def text_is_utf8(content_type: str, body: bytes) -> bool:
    """False when a text field of the form (URL-encoded or multipart) is not valid UTF-8."""
    kind, params = parse_options_header(content_type)
    if kind == b"application/x-www-form-urlencoded":
        return _urlencoded_ok(body)
    if kind == b"multipart/form-data" and b"boundary" in params:
        return _multipart_ok(params[b"boundary"], body)
    return True
