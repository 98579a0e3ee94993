"""Open Badges 3.0 credentials for issued CCP and CQP, signed with a Data Integrity proof.

A credential is an ``OpenBadgeCredential`` (W3C Verifiable Credentials Data Model 2.0) whose
achievement is aligned to the RNCP fiche of the certification (and the bloc code for a CCP).
It carries an embedded ``DataIntegrityProof`` of the ``eddsa-jcs-2022`` cryptosuite (W3C
vc-di-eddsa): the proof configuration and the document are each canonicalised with JCS
(RFC 8785) and hashed with SHA-256; the Ed25519 signature covers both hashes, proof
configuration first, and is written as a base58-btc multibase string (``z…``).

The Ed25519 key is the platform's: generated once under ``DATA_DIR/keys`` (mode 0600) and
published as a Multikey in the issuer profile (``/openbadges/issuer``).

A credential's ``id`` is ``urn:uuid:`` derived from its certificate's code (stable, and the
code itself is not given away); its ``credentialStatus`` points at the issuer's 1EdTech
Revocation List (``/openbadges/revocations``), which lists the ids of revoked credentials.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.seal import write_once
from portal.settings import Settings
from vae.decision.models import Certificate, CertificateKind

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# defines the 1EdTechRevocationList status type
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
REVOCATION_LIST_TYPE = "1EdTechRevocationList"
# credential ids are uuid5(CREDENTIAL_NAMESPACE, certificate code): never change it
CREDENTIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vae-portal:openbadges:credential")
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
CRYPTOSUITE = "eddsa-jcs-2022"
ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as in every "z6Mk…" Multikey
KEY_FILE = "badge-ed25519.pem"
ISSUER_NAME = "CPNEFP du Régime général de Sécurité sociale"
RNCP_FICHE = "https://www.francecompetences.fr/recherche/rncp/{number}/"
PARIS = ZoneInfo("Europe/Paris")
RULES = (
    "Une compétence est acquise lorsqu'au moins 80 % de ses critères d'évaluation sont "
    "validés ; un bloc de compétences est validé lorsqu'au moins 80 % de ses compétences sont "
    "acquises."
)
EVALUATION = (
    "Évaluation par un jury professionnel (VAE : entretien de 45 minutes à partir du livret 2 ; "
    "formation : observation en situation réelle de travail, avec le carnet de suivi des "
    "compétences), puis décision souveraine du jury paritaire national de la CPNEFP."
)

_keys: dict[str, Ed25519PrivateKey] = {}
_keys_lock = threading.Lock()


# --- key -----------------------------------------------------------------------------------


def _new_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    path = write_once(settings.data_dir / "keys" / KEY_FILE, _new_key)
    cache_key = str(path.resolve())
    with _keys_lock:
        key = _keys.get(cache_key)
        if key is None:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            key = _keys[cache_key] = loaded
        return key


def public_key_multibase(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(ED25519_PUB_PREFIX + raw).decode("ascii")


def issuer_id(settings: Settings) -> str:
    return f"{settings.base_url}/openbadges/issuer"


def key_id(settings: Settings) -> str:
    return f"{issuer_id(settings)}#key-1"


def revocation_list_id(settings: Settings) -> str:
    return f"{settings.base_url}/openbadges/revocations"


def achievement_id(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/openbadges/achievements/{code}"


def credential_id(certificate: Certificate) -> str:
    """The credential's stable id: the same for every download of the certificate's badge."""
    return f"urn:uuid:{uuid.uuid5(CREDENTIAL_NAMESPACE, certificate.code)}"


# --- documents -----------------------------------------------------------------------------


def _issuer(settings: Settings) -> dict[str, Any]:
    return {
        "id": issuer_id(settings),
        "type": ["Profile"],
        "name": ISSUER_NAME,
        "url": settings.base_url,
    }


def issuer_profile(settings: Settings) -> dict[str, Any]:
    """The issuer's public profile, with the key that verifies its credentials."""
    public = public_key_multibase(signing_key(settings).public_key())
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT, MULTIKEY_CONTEXT],
        **_issuer(settings),
        "description": (
            "Commission paritaire nationale de l'emploi et de la formation professionnelle du "
            "Régime général de Sécurité sociale : délivre les CQP Conseiller offres de services "
            "et Gestionnaire conseil, et leurs certificats de compétences professionnelles."
        ),
        "verificationMethod": [
            {
                "id": key_id(settings),
                "type": "Multikey",
                "controller": issuer_id(settings),
                "publicKeyMultibase": public,
            }
        ],
        "assertionMethod": [key_id(settings)],
    }


def _rncp_number(code: str) -> str:
    return "".join(c for c in code.removeprefix("RNCP").split("BC")[0] if c.isdigit())


def _achievement(settings: Settings, certificate: Certificate) -> dict[str, Any]:
    ccp = certificate.kind == CertificateKind.CCP.value
    return achievement(
        settings,
        certification_code=certificate.certification_code,
        certification_title=certificate.certification_title,
        bloc_code=(certificate.bloc_code or certificate.certification_code) if ccp else None,
        bloc_title=(certificate.bloc_title or "") if ccp else None,
    )


def achievement(
    settings: Settings,
    *,
    certification_code: str,
    certification_title: str,
    bloc_code: str | None = None,
    bloc_title: str | None = None,
) -> dict[str, Any]:
    """The Achievement of a CQP (no bloc) or of the CCP of one of its blocs; the same object
    is embedded in credentials and served at its id (``/openbadges/achievements/{code}``)."""
    fiche = RNCP_FICHE.format(number=_rncp_number(certification_code))
    if bloc_code is not None:
        code = bloc_code
        name = f"CCP {bloc_title}"
        description = (
            f"Certificat de compétences professionnelles du bloc {code} « "
            f"{bloc_title} » du {certification_title} "
            f"({certification_code}). Acquis définitivement, sans limite de durée."
        )
        criteria = f"{RULES} Chaque bloc validé donne un CCP. {EVALUATION}"
        achievement_type = "Certificate"
        title = bloc_title or ""
    else:
        code = certification_code
        name = certification_title
        description = (
            f"Certificat de qualification professionnelle {certification_title}, "
            f"enregistré au RNCP sous le code {code}."
        )
        criteria = (
            f"{RULES} Le CQP est délivré lorsque tous les blocs de compétences de la "
            f"certification sont validés. {EVALUATION}"
        )
        achievement_type = "Certification"
        title = certification_title
    return {
        "id": achievement_id(settings, code),
        "type": ["Achievement"],
        "achievementType": achievement_type,
        "name": name,
        "description": description,
        "criteria": {"narrative": criteria},
        "inLanguage": "fr",
        "humanCode": code,
        "creator": _issuer(settings),
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": title,
                "targetUrl": fiche,
                "targetCode": code,
                "targetFramework": "RNCP",
                "targetDescription": f"Répertoire national des certifications professionnelles, "
                f"fiche {certification_code}",
            }
        ],
    }


def _valid_from(certificate: Certificate) -> str:
    return datetime.combine(certificate.issued_on, time(0, 0), PARIS).isoformat()


def unsigned_credential(settings: Settings, certificate: Certificate) -> dict[str, Any]:
    """The credential before its proof."""
    holder = f"{certificate.holder_first_name} {certificate.holder_last_name}"
    label = "CCP" if certificate.kind == CertificateKind.CCP.value else "CQP"
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT],
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{label} {certificate.bloc_code or certificate.certification_code} – {holder}",
        "issuer": _issuer(settings),
        "validFrom": _valid_from(certificate),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": holder,
                }
            ],
            "achievement": _achievement(settings, certificate),
        },
        "credentialStatus": {"id": revocation_list_id(settings), "type": REVOCATION_LIST_TYPE},
    }


def revocation_list(settings: Settings, revoked: Iterable[Certificate]) -> dict[str, Any]:
    """The issuer's 1EdTech Revocation List: the ids of its revoked credentials. No
    ``revocationReason``: the reasons stay internal (as on the verification pages)."""
    return {
        "id": revocation_list_id(settings),
        "issuer": issuer_id(settings),
        "revokedCredentials": [{"id": credential_id(certificate)} for certificate in revoked],
    }


# --- eddsa-jcs-2022 ------------------------------------------------------------------------


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    """SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document)), as the cryptosuite says:
    the proof configuration carries the document's ``@context``."""
    config = dict(proof_options)
    config["@context"] = document["@context"]
    config_hash = hashlib.sha256(rfc8785.dumps(config)).digest()
    document_hash = hashlib.sha256(rfc8785.dumps(document)).digest()
    return config_hash + document_hash


def create_proof(
    key: Ed25519PrivateKey,
    document: dict[str, Any],
    *,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """``document`` with an embedded ``eddsa-jcs-2022`` proof by ``key``."""
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_hash_data(document, proof))
    proof["proofValue"] = "z" + base58.b58encode(signature).decode("ascii")
    return {**document, "proof": proof}


def verify_proof(
    public_key: Ed25519PublicKey, credential: dict[str, Any], *, verification_method: str
) -> bool:
    """Whether ``credential``'s ``eddsa-jcs-2022`` proof by ``verification_method`` holds."""
    try:
        document = copy.deepcopy(credential)
        proof = document.pop("proof")
        if not isinstance(proof, dict):
            return False
        proof_value = proof.pop("proofValue")
        if (
            proof.get("type") != "DataIntegrityProof"
            or proof.get("cryptosuite") != CRYPTOSUITE
            or proof.get("verificationMethod") != verification_method
            or proof.get("proofPurpose") != "assertionMethod"
            or not isinstance(proof_value, str)
            or not proof_value.startswith("z")
        ):
            return False
        if "@context" in proof:
            # the document's @context must start with the proof's, which then replaces it
            contexts = proof.pop("@context")
            if document.get("@context", [])[: len(contexts)] != contexts:
                return False
            document["@context"] = contexts
        public_key.verify(base58.b58decode(proof_value[1:]), _hash_data(document, proof))
    except (InvalidSignature, KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def badge_credential(
    settings: Settings, certificate: Certificate, *, now: datetime
) -> dict[str, Any]:
    """The signed Open Badges 3.0 credential of ``certificate``."""
    return create_proof(
        signing_key(settings),
        unsigned_credential(settings, certificate),
        verification_method=key_id(settings),
        created=now,
    )


def verify_badge(settings: Settings, credential: dict[str, Any]) -> bool:
    """Whether ``credential`` carries a valid proof by this platform's key over its content."""
    return verify_proof(
        signing_key(settings).public_key(), credential, verification_method=key_id(settings)
    )
