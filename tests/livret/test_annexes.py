"""Annex checks and storage: a hostile corpus, file names, and files that go with their rows."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures import pdfs
from tests.livret.helpers import NOW, actor, add, complete_livret
from tests.portal.world import World, build_world
from vae import storage
from vae.livret import annexes, pdfcheck, service
from vae.livret.annexes import (
    AnnexRefused,
    add_annex,
    check_pdf,
    clean_filename,
    delete_annex,
    livret_annex_bytes,
)
from vae.livret.models import Annex, Situation
from vae.referentiel.model import Referentiel

MIB = 1024 * 1024

# (case, builder, expected code, what the French message says)
HOSTILE: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("empty", lambda: b"", "empty", "Ce fichier est vide."),
    ("10 MB + 1 byte", lambda: pdfs.padded_to(10 * MIB + 1), "too_big", "dépasse 10 Mo"),
    ("201 pages", lambda: pdfs.valid_pdf(201), "too_many_pages", "compte 201 pages"),
    ("truncated (cut in half)", pdfs.truncated, "corrupt", "endommagé ou incomplet"),
    (
        "middle cut out, trailer kept",
        lambda: (lambda d: d[: len(d) // 3] + d[-300:])(pdfs.valid_pdf(3)),
        "corrupt",
        "endommagé ou incomplet",
    ),
    ("garbage after %PDF-", pdfs.garbage_after_magic, "corrupt", "endommagé"),
    ("garbage between %PDF- and %%EOF", pdfs.garbage_with_eof, "corrupt", "endommagé"),
    ("stream /Length past the end", pdfs.wrong_length, "corrupt", "endommagé"),
    ("broken deflate data", pdfs.bad_flate, "corrupt", "endommagé"),
    ("page tree cycle", pdfs.page_tree_cycle, "corrupt", "endommagé"),
    ("no page at all", pdfs.no_pages, "no_pages", "aucune page"),
    ("HTML renamed .pdf", pdfs.html_page, "not_pdf", "n'est pas un PDF, c'est une page web HTML :"),
    ("ZIP renamed .pdf", pdfs.zip_archive, "not_pdf", "n'est pas un PDF, c'est une archive ZIP"),
    ("PNG renamed .pdf", pdfs.png_image, "not_pdf", "n'est pas un PDF, c'est une image PNG :"),
    ("polyglot: PDF inside a ZIP", pdfs.zip_with_pdf, "not_pdf", "une archive ZIP"),
    ("polyglot: PDF inside HTML", pdfs.html_polyglot, "not_pdf", "une page web HTML"),
    ("polyglot: PDF then ZIP", pdfs.pdf_then_zip, "trailing", "après la fin du PDF"),
    ("junk before the header", pdfs.junk_before_header, "not_pdf", "n'est pas un PDF"),
    (
        "encrypted, password",
        lambda: pdfs.encrypted("secret"),
        "encrypted",
        "protégé par un mot de passe",
    ),
    ("encrypted, empty user password", lambda: pdfs.encrypted(""), "encrypted_empty", "chiffré"),
    (
        "encrypted AES-256, empty user password",
        lambda: pdfs.encrypted("", "AES-256"),
        "encrypted_empty",
        "chiffré",
    ),
    ("JavaScript /OpenAction", pdfs.javascript_open_action, "active", "JavaScript"),
    ("JavaScript in the /Names tree", pdfs.javascript_names_tree, "active", "JavaScript"),
    ("JavaScript, #-escaped names", pdfs.javascript_escaped_names, "active", "JavaScript"),
    ("/Launch action", pdfs.launch_action, "active", "lancement de programme"),
    ("XFA form", pdfs.xfa_form, "active", "formulaire"),
    ("embedded file (/EmbeddedFiles)", pdfs.embedded_file, "embedded", "fichiers joints"),
    ("file attachment annotation", pdfs.file_attachment_annotation, "embedded", "joints"),
    ("decompression bomb (200 MiB)", pdfs.decompression_bomb, "bomb", "plus de 100 Mo"),
    ("double-deflate bomb (200 MiB)", pdfs.double_bomb, "bomb", "plus de 100 Mo"),
    ("200 000 nested arrays", pdfs.deep_nesting, "complex", "trop complexe"),
]


def _french(message: str) -> bool:
    english = re.compile(r"error|exception|traceback|pypdf|stream|xref|object", re.IGNORECASE)
    return message.endswith(".") and not english.search(message) and message[0].isupper()


@pytest.mark.parametrize(
    ("builder", "code", "says"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_file_is_refused_in_french(
    builder: Callable[[], bytes], code: str, says: str
) -> None:
    with pytest.raises(AnnexRefused) as refused:
        check_pdf(builder(), "piece.pdf")
    assert refused.value.code == code
    assert says in str(refused.value)
    assert _french(str(refused.value)), str(refused.value)


def test_the_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 20


@pytest.mark.parametrize(
    ("data", "pages"),
    [
        (pdfs.valid_pdf(1), 1),
        (pdfs.simple_page(), 1),
        (pdfs.valid_pdf(200), 200),
        (pdfs.padded_to(10 * MIB), 1),
    ],
    ids=["reportlab, 1 page", "hand-written, 1 page", "200 pages", "exactly 10 MiB"],
)
def test_valid_pdf_is_accepted(data: bytes, pages: int) -> None:
    facts = check_pdf(data, "Attestation employeur.pdf")
    assert facts.pages == pages
    assert facts.size == len(data)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.clean_name == "Attestation employeur.pdf"


def test_encrypted_file_is_refused_before_anything_else_is_read() -> None:
    assert pdfcheck.probe(pdfs.encrypted("secret")) == {"refused": "encrypted", "params": {}}


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\Windows\\system32\\cmd.exe", "cmd.exe.pdf"),
        ("C:\\Users\\lea\\Documents\\fiche de poste.pdf", "fiche de poste.pdf"),
        ("/var/www/static/x.pdf", "x.pdf"),
        ("rap\x00port\r\n\t final\x7f.pdf", "rapport final.pdf"),
        ("facture\u202efdp.exe", "facturefdp.exe.pdf"),  # right-to-left override
        ("\u200bzero\u2066width\u2069\ufeff.pdf", "zerowidth.pdf"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
        ("é" * 300, "é" * 116 + ".pdf"),
        ("Compte rendu.PDF", "Compte rendu.PDF"),
        ("photo.png", "photo.png.pdf"),
        ("", "annexe.pdf"),
        ("..", "annexe.pdf"),
        ("   .pdf", "annexe.pdf"),
        (".htaccess", "htaccess.pdf"),
        ("e\u0301te\u0301.pdf", "été.pdf"),  # NFC
    ],
)
def test_file_name_is_only_metadata(given_name: str, expected: str) -> None:
    cleaned = clean_filename(given_name)
    assert cleaned == expected
    assert len(cleaned) <= 120
    assert "/" not in cleaned and "\\" not in cleaned
    assert not any(ord(ch) < 32 or 0x202A <= ord(ch) <= 0x202E for ch in cleaned)


def test_file_name_is_cleaned_in_the_facts() -> None:
    facts = check_pdf(pdfs.valid_pdf(), "../../etc/passwd\u202e")
    assert facts.clean_name == "passwd.pdf"


# --- the probe child -----------------------------------------------------------------------


def test_a_probe_over_its_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfcheck, "PROBE_WALL_SECONDS", 0.001)
    with pytest.raises(AnnexRefused) as refused:
        check_pdf(pdfs.valid_pdf(), "a.pdf")
    assert refused.value.code == "complex"


def test_a_killed_probe_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfcheck, "_CHILD", "import os, signal; os.kill(os.getpid(), 9)")
    with pytest.raises(AnnexRefused) as refused:
        check_pdf(pdfs.valid_pdf(), "a.pdf")
    assert refused.value.code == "complex"


def test_a_broken_probe_says_try_again_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pdfcheck, "_CHILD", "raise SystemExit('pypdf introuvable')")
    with caplog.at_level(logging.ERROR), pytest.raises(AnnexRefused) as refused:
        check_pdf(pdfs.valid_pdf(), "a.pdf")
    assert refused.value.code == "unavailable"
    assert "réessayez" in str(refused.value)
    assert "pypdf introuvable" in caplog.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_parser_exception_escapes(data: st.DataObject) -> None:
    """Mutated valid PDFs: the probe answers pages or a known refusal, never raises."""
    original = bytearray(pdfs.valid_pdf(2))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    result = pdfcheck.probe(bytes(original))
    assert "pages" in result or result["refused"] in pdfcheck.MESSAGES


# --- storage -------------------------------------------------------------------------------


@pytest.fixture
def situation(db: Session, referentiel: Referentiel) -> tuple[World, Situation]:
    world = build_world(db)
    livret = service.get_or_open(db, world.own)
    found = add(db, world, referentiel, livret, "GRU")
    db.commit()
    return world, found


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _add(
    db: Session, world: World, situation: Situation, folder: Path, data: bytes, name: str = "a.pdf"
) -> Annex:
    return add_annex(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        situation=situation,
        data=data,
        filename=name,
        folder=folder,
        now=NOW,
    )


def test_an_accepted_file_is_stored_under_a_generated_name(
    db: Session, situation: tuple[World, Situation], tmp_path: Path
) -> None:
    world, found = situation
    data = pdfs.valid_pdf(2)
    annex = _add(db, world, found, tmp_path, data, "../Bulletin <script>.pdf")
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", annex.stored_name)
    assert _listing(tmp_path) == [annex.stored_name]  # no temporary file left
    assert (tmp_path / annex.stored_name).read_bytes() == data
    assert (annex.original_name, annex.pages, annex.size) == ("Bulletin <script>.pdf", 2, len(data))
    assert annex.sha256 == hashlib.sha256(data).hexdigest()
    assert [a.id for a in found.annexes] == [annex.id]
    assert livret_annex_bytes(db, found.livret_id) == len(data)


@pytest.mark.parametrize(
    "builder",
    [pdfs.html_page, pdfs.truncated, lambda: pdfs.encrypted("secret"), pdfs.decompression_bomb],
    ids=["html", "truncated", "encrypted", "bomb"],
)
def test_a_refused_file_leaves_nothing_behind(
    db: Session, situation: tuple[World, Situation], tmp_path: Path, builder: Callable[[], bytes]
) -> None:
    world, found = situation
    with pytest.raises(AnnexRefused):
        _add(db, world, found, tmp_path, builder())
    assert _listing(tmp_path) == []
    assert db.scalars(select(Annex)).all() == []


def test_a_failed_commit_removes_the_file(
    db: Session, situation: tuple[World, Situation], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, found = situation

    def broken_commit() -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(db, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        _add(db, world, found, tmp_path, pdfs.valid_pdf())
    monkeypatch.undo()
    assert _listing(tmp_path) == []
    assert db.scalars(select(Annex)).all() == []


def test_a_failed_write_leaves_no_temporary_file(
    db: Session, situation: tuple[World, Situation], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, found = situation

    def broken_replace(source: str, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(storage.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        _add(db, world, found, tmp_path, pdfs.valid_pdf())
    assert _listing(tmp_path) == []
    assert db.scalars(select(Annex)).all() == []


def test_the_livret_cap_counts_every_situation(
    db: Session,
    situation: tuple[World, Situation],
    referentiel: Referentiel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, found = situation
    first = pdfs.valid_pdf(1)
    other = add(db, world, referentiel, found.livret, "MDR")
    db.commit()
    monkeypatch.setattr(annexes, "MAX_LIVRET_BYTES", len(first) * 2 + 10)
    _add(db, world, found, tmp_path, first)
    _add(db, world, other, tmp_path, first)
    with pytest.raises(AnnexRefused) as refused:
        _add(db, world, other, tmp_path, first)
    assert refused.value.code == "livret_full"
    assert "50 Mo au total" in str(refused.value)
    assert len(_listing(tmp_path)) == 2


def test_only_the_candidate_writes_and_only_a_draft(
    db: Session, referentiel: Referentiel, tmp_path: Path
) -> None:
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    found = livret.situations[0]
    with pytest.raises(service.NotAllowed):
        add_annex(
            session=db,
            actor=actor(world, "tuteur"),
            user=world.people["tuteur"],
            situation=found,
            data=pdfs.valid_pdf(),
            filename="a.pdf",
            folder=tmp_path,
            now=NOW,
        )
    annex = _add(db, world, found, tmp_path, pdfs.valid_pdf())
    service.submit(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        livret=livret,
        certification=referentiel.certification(world.own.certification.code),
        sworn=True,
        now=NOW,
    )
    db.commit()
    with pytest.raises(service.Frozen):
        _add(db, world, found, tmp_path, pdfs.valid_pdf())
    with pytest.raises(service.Frozen):
        delete_annex(
            session=db,
            actor=actor(world),
            user=world.people["candidat"],
            annex=annex,
            folder=tmp_path,
            now=NOW,
        )
    assert _listing(tmp_path) == [annex.stored_name]


def test_delete_removes_the_row_then_the_file(
    db: Session, situation: tuple[World, Situation], tmp_path: Path
) -> None:
    world, found = situation
    annex = _add(db, world, found, tmp_path, pdfs.valid_pdf())
    name = delete_annex(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        annex=annex,
        folder=tmp_path,
        now=NOW,
    )
    assert name == "a.pdf"
    assert _listing(tmp_path) == []
    assert db.scalars(select(Annex)).all() == []
    assert found.annexes == []


def test_a_submitted_edition_keeps_its_files(
    db: Session, referentiel: Referentiel, tmp_path: Path
) -> None:
    """Returned for correction, the candidate removes an annex: the submitted edition still
    lists it, so its file stays (the row goes)."""
    world = build_world(db)
    livret = complete_livret(db, world, referentiel)
    annex = _add(db, world, livret.situations[0], tmp_path, pdfs.valid_pdf())
    stored = annex.stored_name
    service.submit(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        livret=livret,
        certification=referentiel.certification(world.own.certification.code),
        sworn=True,
        now=NOW,
    )
    service.return_for_correction(
        session=db,
        actor=actor(world, "admin"),
        user=world.people["admin"],
        livret=livret,
        reason="Anonymisez la pièce.",
        now=NOW,
    )
    db.commit()
    delete_annex(
        session=db,
        actor=actor(world),
        user=world.people["candidat"],
        annex=annex,
        folder=tmp_path,
        now=NOW,
    )
    assert db.scalars(select(Annex)).all() == []
    assert _listing(tmp_path) == [stored]


def test_sizes_in_french() -> None:
    assert annexes.format_size(1) == "1 Ko"
    assert annexes.format_size(1024) == "1 Ko"
    assert annexes.format_size(1025) == "2 Ko"
    assert annexes.format_size(12 * MIB + MIB // 2) == "12,5 Mo"


def test_stored_names_are_only_generated_ones(tmp_path: Path) -> None:
    assert annexes.annex_path(tmp_path, "0" * 32 + ".pdf") == tmp_path / ("0" * 32 + ".pdf")
    for bad in ("../x.pdf", "a.pdf", "0" * 32 + ".pdf/..", ""):
        with pytest.raises(ValueError):
            annexes.annex_path(tmp_path, bad)


def test_facts_checked_outside_must_be_those_of_the_file(
    db: Session, situation: tuple[World, Situation], tmp_path: Path
) -> None:
    world, found = situation
    facts = check_pdf(pdfs.valid_pdf(1), "a.pdf")
    with pytest.raises(ValueError, match="not those of this file"):
        add_annex(
            session=db,
            actor=actor(world),
            user=world.people["candidat"],
            situation=found,
            data=pdfs.html_page(),
            filename="a.pdf",
            folder=tmp_path,
            now=NOW,
            facts=facts,
        )
    assert _listing(tmp_path) == []


def test_the_sweep_removes_only_old_files_no_row_names(
    db: Session, situation: tuple[World, Situation], tmp_path: Path
) -> None:
    """A crash between writing a file and committing its row leaves an orphan: swept once it
    is older than the grace period; kept files and writes in flight stay."""
    import os
    from datetime import timedelta

    from vae.livret.annexes import sweep_orphans

    world, found = situation
    kept = _add(db, world, found, tmp_path, pdfs.valid_pdf())
    old_orphan = tmp_path / ("a" * 32 + ".pdf")
    old_temp = tmp_path / ".partial-x1.tmp"
    young_orphan = tmp_path / ("b" * 32 + ".pdf")
    stranger = tmp_path / "notes.txt"  # not a name we generate: never touched
    for path in (old_orphan, old_temp, young_orphan, stranger):
        path.write_bytes(b"%PDF-1.7")
    hour_ago = NOW.timestamp() - 3600
    for path in (old_orphan, old_temp, stranger, tmp_path / kept.stored_name):
        os.utime(path, (hour_ago, hour_ago))
    os.utime(young_orphan, (NOW.timestamp(), NOW.timestamp()))

    planned = sweep_orphans(db, tmp_path, now=NOW, grace=timedelta(minutes=15), dry_run=True)
    assert planned == [old_temp.name, old_orphan.name] and old_orphan.exists()
    removed = sweep_orphans(db, tmp_path, now=NOW, grace=timedelta(minutes=15))
    assert removed == planned
    assert sorted(_listing(tmp_path)) == sorted([kept.stored_name, young_orphan.name, "notes.txt"])
