"""The platform seal: PAdES signature, verification against the platform certificate, keys."""

from __future__ import annotations

import dataclasses
import io
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen.canvas import Canvas

from portal import seal
from portal.seal import (
    SealCheck,
    SealConfigurationError,
    generated_key_path,
    seal_pdf,
    verify_pdf,
)
from portal.settings import REPO_ROOT, Settings, load_settings


def _plain_pdf(text: str = "Procès-verbal") -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.fixture
def sealed(settings: Settings) -> bytes:
    return seal_pdf(settings, _plain_pdf(), reason="Test de scellement")


def _byte_range(data: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", data)
    assert match is not None
    a, b, c, d = (int(g) for g in match.groups())
    return a, b, c, d


def test_sealed_pdf_verifies(settings: Settings, sealed: bytes) -> None:
    check = verify_pdf(settings, sealed)
    assert check.valid and check.intact
    assert check.signer == seal.TEST_SUBJECT
    assert check.signed_at is not None
    assert "Sceau valide" in check.message
    reader = PdfFileReader(io.BytesIO(sealed))
    (signature,) = reader.embedded_signatures
    assert signature.field_name == "Signature1"
    assert signature.sig_object["/Reason"] == "Test de scellement"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES


def test_the_private_key_is_parsed_once_not_at_every_signature(
    settings: Settings, sealed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyhanko's SimpleSigner re-parses the key at each of the two signatures of a seal (~150 ms
    each for RSA 3,072): the platform's signer keeps it parsed."""
    from pyhanko.sign.signers import pdf_cms

    parsed: list[bytes] = []
    original = pdf_cms.serialization.load_der_private_key

    def counting(data: bytes, *args: object, **kwargs: object) -> object:
        parsed.append(data)
        return original(data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_cms.serialization, "load_der_private_key", counting)
    again = seal_pdf(settings, _plain_pdf("Deuxième"), reason="Test de scellement")
    assert parsed == []
    assert verify_pdf(settings, again).valid


def test_custom_field_name(settings: Settings) -> None:
    data = seal_pdf(settings, _plain_pdf(), reason="PV", field_name="SceauPV")
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert signature.field_name == "SceauPV"
    assert verify_pdf(settings, data).valid


def test_one_flipped_byte_in_the_signed_content_fails(settings: Settings, sealed: bytes) -> None:
    _start, first_length, _second, _ = _byte_range(sealed)
    tampered = bytearray(sealed)
    tampered[first_length // 2] ^= 0x01  # inside the first signed range, in the page
    check = verify_pdf(settings, bytes(tampered))
    assert not check.valid
    assert not check.intact


def test_text_replaced_in_the_page_fails(settings: Settings) -> None:
    original = seal_pdf(settings, _plain_pdf("Montant: 100"), reason="test")
    # reportlab compresses page streams: the text is not there in clear, so change the
    # document information (also signed) instead, keeping the length
    assert b"/Producer" in original
    tampered = original.replace(b"ReportLab", b"ReportLaB", 1)
    assert tampered != original
    assert not verify_pdf(settings, tampered).valid


def test_an_incremental_update_changing_the_page_fails(settings: Settings, sealed: bytes) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 600 Td (Faux) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    output = io.BytesIO()
    writer.write(output)
    check = verify_pdf(settings, output.getvalue())
    assert not check.valid
    assert "modifié" in check.message


def test_a_pdf_without_signature_is_invalid(settings: Settings) -> None:
    check = verify_pdf(settings, _plain_pdf())
    assert not check.valid
    assert check.message == "Ce document ne porte aucun sceau électronique."
    assert not check.sealed


def test_garbage_is_invalid(settings: Settings) -> None:
    check = verify_pdf(settings, b"%PDF-1.7\nnot really")
    assert not check.valid
    assert "lisible" in check.message
    assert check.sealed


def test_a_seal_by_another_key_is_not_trusted(settings: Settings, tmp_path: Path) -> None:
    other = dataclasses.replace(settings, data_dir=tmp_path / "other")
    data = seal_pdf(other, _plain_pdf(), reason="autre")
    assert verify_pdf(other, data).valid
    check = verify_pdf(settings, data)
    assert not check.valid
    assert check.intact
    assert "pas celui de la plateforme" in check.message


def test_generated_key_is_private_and_reused(settings: Settings, sealed: bytes) -> None:
    path = generated_key_path(settings)
    assert path.parent == settings.data_dir / "keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert b"PRIVATE KEY" in content and b"CERTIFICATE" in content
    seal._cache.clear()  # as a fresh process would
    seal_pdf(settings, _plain_pdf(), reason="encore")
    assert path.read_bytes() == content
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


FINGERPRINT = """
import hashlib, sys
from pathlib import Path
from portal.settings import Settings
from portal.seal import platform_certificate
cert = platform_certificate(Settings(database_url="sqlite://", data_dir=Path(sys.argv[1])))
print(hashlib.sha256(cert.dump()).hexdigest())
"""


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", FINGERPRINT, str(data_dir)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    prints = {run.communicate(timeout=120)[0].strip() for run in runs}
    assert all(run.returncode == 0 for run in runs)
    assert len(prints) == 1 and len(prints.pop()) == 64
    assert len(list((data_dir / "keys").iterdir())) == 1


def test_production_without_key_files_is_refused(tmp_path: Path) -> None:
    production = load_settings(
        {"DATA_DIR": str(tmp_path), "ENVIRONMENT": "production", "DATABASE_URL": "sqlite://"}
    )
    with pytest.raises(SealConfigurationError, match="SEAL_KEY_FILE"):
        seal_pdf(production, _plain_pdf(), reason="x")
    assert not (tmp_path / "keys").exists()


def test_configured_key_files_are_used(settings: Settings, tmp_path: Path) -> None:
    # a PEM key and certificate in two files, as production configures them
    pem = seal.ensure_generated_key(tmp_path / "pair.pem").read_bytes()
    key_end = pem.index(b"-----END PRIVATE KEY-----") + len(b"-----END PRIVATE KEY-----\n")
    (tmp_path / "key.pem").write_bytes(pem[:key_end])
    (tmp_path / "cert.pem").write_bytes(pem[key_end:])
    production = load_settings(
        {
            "DATA_DIR": str(tmp_path / "production"),
            "ENVIRONMENT": "production",
            "DATABASE_URL": "sqlite://",
            "SEAL_KEY_FILE": str(tmp_path / "key.pem"),
            "SEAL_CERT_FILE": str(tmp_path / "cert.pem"),
        }
    )
    data = seal_pdf(production, _plain_pdf(), reason="production")
    assert verify_pdf(production, data).valid
    assert not verify_pdf(settings, data).valid  # another platform's seal
    assert not (tmp_path / "production" / "keys").exists()


def test_sealing_and_checking_work_from_a_thread_running_an_event_loop(
    settings: Settings,
) -> None:
    """A browser driver or an async caller runs a loop in this thread; pyhanko must still work."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def inside_a_loop() -> SealCheck:
        sealed = seal_pdf(settings, _plain_pdf(), reason="Test dans une boucle")
        return verify_pdf(settings, sealed)

    # in a thread of its own: this one may already run a loop (the browser journeys' driver)
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, inside_a_loop()).result().valid
