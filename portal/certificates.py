"""Issued certificates as files: verification codes, the sealed PDF stored under DATA_DIR.

The proclamation creates the ``Certificate`` rows (with ``new_code()``) and calls
``store_certificate_pdf`` for each: the PDF is rendered, sealed by the platform and written
atomically under ``DATA_DIR/certificates`` with a generated name; the row keeps that name and
the file's SHA-256, which the download checks and the public verification compares.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from pathlib import Path

from portal.seal import seal_pdf
from portal.settings import Settings
from vae.decision.models import Certificate, CertificateKind
from vae.storage import write_atomically

# Base32-sized alphabet without the characters read one for another (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16  # 16 × log2(31) ≈ 79 bits: not guessable
CODE_GROUP = 4
MAX_CODE_INPUT = 64  # what a person may type or paste, spaces and dashes included


def new_code() -> str:
    """An unguessable verification code, grouped for reading: ``ABCD-EFGH-JKMN-PQRS``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return _group(raw)


def _group(raw: str) -> str:
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def normalise_code(typed: str) -> str | None:
    """The stored form of a typed code (case, spaces and dashes ignored); None when it cannot
    be a code at all. Callers answer both cases alike: nothing tells malformed from unknown."""
    if len(typed) > MAX_CODE_INPUT:
        return None
    raw = "".join(c for c in typed.upper() if c not in " -\t\u00a0")
    if len(raw) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    return _group(raw)


def verification_url(settings: Settings, code: str) -> str:
    """The public page the QR code opens."""
    return f"{settings.base_url}/verifier/{code}"


def kind_label(certificate: Certificate) -> str:
    return "CCP" if certificate.kind == CertificateKind.CCP.value else "CQP"


def download_name(certificate: Certificate) -> str:
    """``CCP-RNCP35543BC03-Martin.pdf`` / ``CQP-RNCP35543-Martin.pdf`` (ASCII only)."""
    subject = certificate.bloc_code or certificate.certification_code
    surname = "".join(
        c for c in certificate.holder_last_name if c.isascii() and (c.isalnum() or c in "-_")
    )
    parts = [kind_label(certificate), subject, surname or "titulaire"]
    return "-".join(parts) + ".pdf"


def certificates_dir(settings: Settings) -> Path:
    return settings.data_dir / "certificates"


def certificate_path(settings: Settings, certificate: Certificate) -> Path | None:
    """Where the sealed PDF is stored (None before it was produced)."""
    if not certificate.pdf_file:
        return None
    name = Path(certificate.pdf_file).name  # a bare generated name; never a path from elsewhere
    return certificates_dir(settings) / name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_certificate_pdf(*, settings: Settings, certificate: Certificate) -> None:
    """Render, seal and store the certificate's PDF; record its name and SHA-256 on the row.

    The caller commits (the file is written first: a row never names a missing file)."""
    from portal.pdf.certificate import certificate_pdf

    label = kind_label(certificate)
    sealed = seal_pdf(
        settings,
        certificate_pdf(settings=settings, certificate=certificate),
        reason=f"{label} délivré par la CPNEFP du Régime général de Sécurité sociale",
    )
    name = f"{uuid.uuid4().hex}.pdf"
    write_atomically(certificates_dir(settings), name, sealed)
    certificate.pdf_file = name
    certificate.pdf_sha256 = sha256(sealed)
