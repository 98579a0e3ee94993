"""A form whose text is not UTF-8 is refused before anything is decoded or stored; files are
bytes and pass."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.formcheck import text_is_utf8
from portal.settings import Settings
from tests.portal.world import build_world, sign_in_as

URLENCODED = "application/x-www-form-urlencoded"


def _multipart(fields: list[tuple[bytes, bytes, bytes | None]]) -> tuple[str, bytes]:
    boundary = b"----frontiere"
    body = b""
    for name, value, filename in fields:
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        body += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n"
        body += value + b"\r\n"
    body += b"--" + boundary + b"--\r\n"
    return f"multipart/form-data; boundary={boundary.decode()}", body


@pytest.mark.parametrize(
    ("content_type", "body", "ok"),
    [
        (URLENCODED, b"titre=caf%C3%A9&x=%E2%80%AE", True),
        (URLENCODED, b"titre=caf%E9", False),
        (URLENCODED, b"titre=caf\xff", False),
        (URLENCODED, b"%FF=1", False),
        (*_multipart([(b"titre", "café".encode(), None)]), True),
        (*_multipart([(b"titre", b"caf\xe9", None)]), False),
        (*_multipart([(b"fichier", b"%PDF-1.7 \xff\xfe\x00", b"a.pdf")]), True),
        (*_multipart([(b"f", b"\xff", b"a.pdf"), (b"t", b"\xfe", None)]), False),
        ("application/json", b"\xff", True),
    ],
    ids=[
        "url-ok",
        "url-latin1",
        "url-raw",
        "url-name",
        "mp-ok",
        "mp-latin1",
        "mp-file",
        "mp-mixed",
        "other",
    ],
)
def test_text_is_utf8(content_type: str, body: bytes, ok: bool) -> None:
    assert text_is_utf8(content_type, body) is ok


def test_an_undecodable_form_is_refused_in_french(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    token = sign_in_as(client, db, settings, world.people["candidat"])
    response = client.post(
        "/compte/mot-de-passe",
        content=b"csrf_token=" + token.encode() + b"&current=caf%E9&new=x",
        headers={"Content-Type": URLENCODED},
    )
    assert response.status_code == 400
    assert (
        "caractères illisibles" in response.text and "rien n&#39;a été enregistré" in response.text
    )
    htmx = client.post(
        "/compte/mot-de-passe",
        content=b"csrf_token=" + token.encode() + b"&current=caf%E9",
        headers={"Content-Type": URLENCODED, "HX-Request": "true"},
    )
    assert htmx.status_code == 400 and htmx.text.startswith('<p class="alert error"')
