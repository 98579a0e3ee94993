"""The platform's electronic seal: PAdES signatures on issued PDFs, and their verification.

The signer is the platform itself (a seal, not a person). Its key and certificate come from
``SEAL_KEY_FILE`` / ``SEAL_CERT_FILE`` (PEM); outside production a self-signed pair is generated
on first use under ``DATA_DIR/keys``, in one file written atomically so that several processes
starting together end up with the same key. Verification trusts the platform certificate alone:
a PDF sealed by anyone else, modified after sealing, or not sealed at all is not valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from portal.settings import Settings

T = TypeVar("T")
PARIS = ZoneInfo("Europe/Paris")

log = logging.getLogger("vae_portal.seal")

TEST_KEY_FILE = "seal-test.pem"  # private key and certificate, PEM, in one file
TEST_SUBJECT = "Plateforme des CQP de la Sécurité sociale (clé de test)"
TEST_VALIDITY = timedelta(days=3653)


class SealConfigurationError(RuntimeError):
    """The sealing key is not configured where it must be (production)."""


@dataclass(frozen=True)
class SealCheck:
    """The verdict on a PDF's seal. ``message`` is shown to the public, in French."""

    valid: bool
    intact: bool
    signer: str
    signed_at: datetime | None
    message: str
    # False when the file carries no signature at all (or cannot be read as a PDF)
    sealed: bool = True


@dataclass(frozen=True)
class _KeyMaterial:
    signer: signers.SimpleSigner
    certificate: asn1_x509.Certificate


_cache: dict[str, _KeyMaterial] = {}
_cache_lock = threading.Lock()


# --- keys ----------------------------------------------------------------------------------


def _generate_pair() -> bytes:
    """A self-signed RSA-3072 key and certificate (PEM: key, then certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, TEST_SUBJECT),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Plateforme des CQP (test)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + TEST_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem + certificate.public_bytes(serialization.Encoding.PEM)


def generated_key_path(settings: Settings) -> Path:
    return settings.data_dir / "keys" / TEST_KEY_FILE


def write_once(path: Path, make: Callable[[], bytes]) -> Path:
    """Create ``path`` (mode 0600) with ``make()`` unless it exists. Several processes may race:
    each writes its own temporary file and links it into place; a loser's link fails and it
    keeps the winner's file, so everyone ends up reading the same key."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(tmp, path)  # atomic: the file appears whole or not at all
    finally:
        os.unlink(tmp)
    return path


def ensure_generated_key(path: Path) -> Path:
    """The self-signed test key and certificate at ``path``, generated on first use."""
    return write_once(path, _generate_pair)


class _ParsedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that parses its private key once. pyhanko's parses it again at every
    signature (for RSA with the key's consistency checks: ~150 ms for 3,072 bits), and a seal
    signs twice (a dummy signature first, to size the space it reserves in the PDF)."""

    def __init__(self, *, private_key: PrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)  # other mechanisms: pyhanko's own way


def _load(key_pem: bytes, cert_pem: bytes) -> _KeyMaterial:
    key = serialization.load_pem_private_key(key_pem, password=None)
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert = x509.load_pem_x509_certificate(cert_pem)
    certificate = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    signer = _ParsedKeySigner(
        private_key=key,
        signing_cert=certificate,
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([certificate]),
    )
    return _KeyMaterial(signer=signer, certificate=certificate)


def _key_files(settings: Settings) -> tuple[Path, Path]:
    if settings.seal_key_file is not None and settings.seal_cert_file is not None:
        return settings.seal_key_file, settings.seal_cert_file
    if settings.environment == "production":
        raise SealConfigurationError(
            "no sealing key in production: set SEAL_KEY_FILE and SEAL_CERT_FILE (PEM) to the "
            "platform's key and certificate"
        )
    path = ensure_generated_key(generated_key_path(settings))
    return path, path


def _material(settings: Settings) -> _KeyMaterial:
    key_file, cert_file = _key_files(settings)
    cache_key = f"{key_file.resolve()}|{cert_file.resolve()}"
    with _cache_lock:
        material = _cache.get(cache_key)
        if material is None:
            material = _load(key_file.read_bytes(), cert_file.read_bytes())
            _cache[cache_key] = material
        return material


def platform_certificate(settings: Settings) -> asn1_x509.Certificate:
    """The certificate verification trusts (generated first if needed)."""
    return _material(settings).certificate


# --- sealing -------------------------------------------------------------------------------


def seal_pdf(
    settings: Settings, data: bytes, *, reason: str, field_name: str = "Signature1"
) -> bytes:
    """``data`` sealed by the platform: a certification signature forbidding any change."""
    material = _material(settings)
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location="France",
        name=_common_name(material.certificate),
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    output = io.BytesIO()
    _off_running_loop(signers.sign_pdf, writer, meta, signer=material.signer, output=output)
    return output.getvalue()


def _off_running_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyhanko's synchronous API runs an event loop of its own (``asyncio.run``), which it may
    not do in a thread that already runs one (an async caller, a test driver): it then runs in
    a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


# --- verification --------------------------------------------------------------------------


def _common_name(certificate: asn1_x509.Certificate) -> str:
    native = certificate.subject.native
    return str(native.get("common_name") or certificate.subject.human_friendly)


def _invalid(
    message: str, *, intact: bool = False, signer: str = "", sealed: bool = True
) -> SealCheck:
    return SealCheck(
        valid=False, intact=intact, signer=signer, signed_at=None, message=message, sealed=sealed
    )


def verify_pdf(settings: Settings, data: bytes) -> SealCheck:
    """Whether ``data`` carries the platform's seal, intact, over the whole file."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
    except Exception:  # any parse failure of an untrusted file is the same verdict
        log.info("seal check: unreadable PDF", exc_info=True)
        return _invalid("Le fichier n'est pas un PDF lisible (document endommagé ou modifié).")
    if not embedded:
        return _invalid("Ce document ne porte aucun sceau électronique.", sealed=False)
    context = ValidationContext(
        trust_roots=[platform_certificate(settings)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        status = _off_running_loop(validate_pdf_signature, embedded[0], context)
    except Exception:  # a malformed signature dictionary is not valid either
        log.info("seal check: signature could not be validated", exc_info=True)
        return _invalid("Le sceau électronique de ce document est illisible.")
    return _verdict(status, len(embedded))


def _verdict(status: PdfSignatureStatus, count: int) -> SealCheck:
    signer = _common_name(status.signing_cert) if status.signing_cert is not None else ""
    signed_at = status.signer_reported_dt
    intact = bool(status.intact and status.valid)
    if not intact:
        return _invalid(
            "Signature invalide : le contenu du document ne correspond plus au sceau "
            "(document modifié).",
            signer=signer,
        )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or count > 1:
        return _invalid(
            "Document modifié après son scellement : des ajouts ont été faits après la signature.",
            signer=signer,
        )
    if not status.trusted:
        return _invalid(
            "Le sceau n'est pas celui de la plateforme (certificat de signature non reconnu).",
            intact=True,
            signer=signer,
        )
    if not status.bottom_line:
        return _invalid("Le sceau électronique n'est pas valide.", intact=True, signer=signer)
    when = f" le {signed_at.astimezone(PARIS):%d/%m/%Y à %H:%M}" if signed_at else ""
    return SealCheck(
        valid=True,
        intact=True,
        signer=signer,
        signed_at=signed_at,
        message=f"Sceau valide : document intact, scellé par « {signer} »{when}.",
    )
