"""Hostile files through the real annex upload endpoint, signed in as the candidate.

Every refused file gets a 4xx, a French message next to the file field, and leaves nothing:
no Annex row, no file (not even a temporary one) in DATA_DIR, no ``livret.annex_add`` entry.
Every hostile *name* on a sound PDF is accepted, stored under a generated name only, and shown
sanitised (no path, no control or bidi characters, at most 120 characters, escaped)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.fixtures import pdfs
from tests.hostile.common import looks_french, multipart, note
from tests.livret.helpers import add
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.livret import service
from vae.livret.models import Annex, Situation
from vae.referentiel.model import Referentiel

MIB = 1024 * 1024
GENERATED = re.compile(r"^[0-9a-f]{32}\.pdf$")

# (id, content, expected status, a few words of the French message)
REFUSED_FILES: list[tuple[str, Callable[[], bytes], int, str]] = [
    ("truncated", pdfs.truncated, 400, "endommagé ou incomplet"),
    ("encrypted-with-password", lambda: pdfs.encrypted("secret"), 400, "mot de passe"),
    ("encrypted-no-password", lambda: pdfs.encrypted(""), 400, "chiffré"),
    ("encrypted-aes256", lambda: pdfs.encrypted("secret", "AES-256"), 400, "mot de passe"),
    ("html-renamed-pdf", pdfs.html_page, 400, "page web HTML"),
    ("zip-renamed-pdf", pdfs.zip_archive, 400, "archive ZIP"),
    ("zip-containing-pdf", pdfs.zip_with_pdf, 400, "archive ZIP"),
    ("polyglot-pdf-zip", pdfs.pdf_then_zip, 400, ""),
    ("polyglot-pdf-html", pdfs.html_polyglot, 400, ""),
    ("javascript-openaction", pdfs.javascript_open_action, 400, "JavaScript"),
    ("javascript-names-tree", pdfs.javascript_names_tree, 400, "JavaScript"),
    ("javascript-escaped-names", pdfs.javascript_escaped_names, 400, "JavaScript"),
    ("launch-action", pdfs.launch_action, 400, ""),
    ("xfa-form", pdfs.xfa_form, 400, ""),
    ("embedded-file", pdfs.embedded_file, 400, "fichiers joints"),
    ("file-attachment-annotation", pdfs.file_attachment_annotation, 400, ""),
    ("decompression-bomb", pdfs.decompression_bomb, 400, "démesuré"),
    ("double-bomb", pdfs.double_bomb, 400, ""),
    ("bad-flate", pdfs.bad_flate, 400, ""),
    ("no-pages", pdfs.no_pages, 400, ""),
    ("page-tree-cycle", pdfs.page_tree_cycle, 400, ""),
    ("deep-nesting", pdfs.deep_nesting, 400, ""),
    ("garbage-after-magic", pdfs.garbage_after_magic, 400, ""),
    ("garbage-with-eof", pdfs.garbage_with_eof, 400, ""),
    ("junk-before-header", pdfs.junk_before_header, 400, ""),
    ("png-renamed-pdf", pdfs.png_image, 400, ""),
    ("zero-bytes", lambda: b"", 400, "Ce fichier est vide."),
    ("10MB-plus-1-byte", lambda: pdfs.padded_to(10 * MIB + 1), 413, "dépasse 10 Mo"),
    ("201-pages", lambda: pdfs.valid_pdf(201), 400, "200"),
]

# (id, raw filename bytes as sent, the name the candidate sees)
HOSTILE_NAMES: list[tuple[str, bytes, str]] = [
    ("traversal-unix", b"../../etc/passwd.pdf", "passwd.pdf"),
    ("traversal-windows", b"..\\..\\win.pdf", "win.pdf"),
    ("absolute-path", b"/etc/shadow", "shadow.pdf"),
    ("control-characters", b"rel\x01ev\x1b[31m\x7fe.pdf", "relev[31me.pdf"),
    ("nul-byte", b"evil.pdf\x00.html", "evil.pdf.html.pdf"),
    ("300-characters", b"x" * 296 + b".pdf", "x" * 116 + ".pdf"),
    ("rtl-override", "facture\u202efdp.exe".encode(), "facturefdp.exe.pdf"),
    ("zero-width", "\u200bpass\u200dwd\ufeff.pdf".encode(), "passwd.pdf"),
    ("script-tag", b"<script>alert(1)</script>.pdf", "script>.pdf"),
    ("img-onerror", b"<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
    ("dots-only", b"...", "annexe.pdf"),
    ("invalid-utf8-name", b"\xff\xfe.pdf", ""),
]


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def situation(db: Session, world: World, referentiel: Referentiel) -> Situation:
    return add(db, world, referentiel, service.get_or_open(db, world.own), "GRU")


def _tree(settings: Settings) -> list[str]:
    root = Path(settings.data_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _post(client: TestClient, token: str, situation: Situation, name: bytes, data: bytes):  # type: ignore[no-untyped-def]
    body, headers = multipart({"csrf_token": token}, (name, data))
    return client.post(
        f"/livret/situations/{situation.id}/annexes",
        content=body,
        headers=headers,
        follow_redirects=False,
    )


def _added(db: Session) -> int:
    return db.scalar(select(func.count()).where(AuditEntry.action == "livret.annex_add")) or 0


@pytest.mark.parametrize(
    ("make", "status", "says"),
    [pytest.param(make, status, says, id=case) for case, make, status, says in REFUSED_FILES],
)
def test_hostile_file_is_refused_and_leaves_nothing(
    request: pytest.FixtureRequest,
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    make: Callable[[], bytes],
    status: int,
    says: str,
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    before = _tree(settings)
    response = _post(client, token, situation, b"attestation.pdf", make())
    note(request.node.callspec.id, response.status_code)
    assert response.status_code == status, response.text[:500]
    field = f"annex-file-{situation.id}"
    message = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', response.text)
    assert message, response.text[:2000]
    assert looks_french(message.group(1)) and says in message.group(1).replace("&#39;", "'")
    assert 'aria-invalid="true"' in response.text
    assert db.scalar(select(func.count()).select_from(Annex)) == 0
    assert _added(db) == 0
    assert _tree(settings) == before


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [pytest.param(raw, shown, id=case) for case, raw, shown in HOSTILE_NAMES],
)
def test_hostile_name_is_kept_as_metadata_only(
    request: pytest.FixtureRequest,
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    situation: Situation,
    raw_name: bytes,
    shown: str,
) -> None:
    token = sign_in_as(client, db, settings, world.people["candidat"])
    data = pdfs.valid_pdf(1)
    response = _post(client, token, situation, raw_name, data)
    note(request.node.callspec.id, response.status_code)
    assert response.status_code == 303, response.text[:500]
    annex = db.scalars(select(Annex)).one()
    if shown:
        assert annex.original_name == shown
    name = annex.original_name
    assert name.endswith(".pdf") and len(name) <= 120
    assert not any(ch in name for ch in "/\\\x00\u202e\u200b") and name.isprintable()
    assert GENERATED.match(annex.stored_name)
    assert _tree(settings) == ["annexes", f"annexes/{annex.stored_name}"]
    assert (Path(settings.data_dir) / "annexes" / annex.stored_name).read_bytes() == data
    page = client.get(f"/livret/situations/{situation.id}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    if "<" in name:
        assert name.replace("<", "&lt;").replace(">", "&gt;") in page
