"""Open Badges 3.0 credentials with an eddsa-jcs-2022 Data Integrity proof."""

from __future__ import annotations

import copy
import json
import stat
import uuid
from datetime import UTC, datetime
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal import openbadges
from portal.openbadges import (
    badge_credential,
    create_proof,
    credential_id,
    issuer_profile,
    public_key_multibase,
    signing_key,
    verify_badge,
    verify_proof,
)
from portal.settings import Settings
from tests.portal.policy_certificates import issue_certificate
from tests.portal.world import World, build_world, sign_in_as
from vae.audit.models import AuditEntry
from vae.decision.models import Certificate, CertificateKind

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)

# The W3C vc-di-eddsa test vector for eddsa-jcs-2022 (key pair and signed credential)
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_METHOD = f"https://vc.example/issuers/5678#{W3C_PUBLIC}"
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_UNSIGNED: dict[str, Any] = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_PROOF_VALUE = (
    "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
)


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def ccp(db: Session, settings: Settings, world: World) -> Certificate:
    return issue_certificate(db, settings, world.own, bloc_key="POS", store=False)


def test_the_w3c_test_vector_is_reproduced_and_verified() -> None:
    seed = base58.b58decode(W3C_PRIVATE[1:])
    assert seed[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = Ed25519PrivateKey.from_private_bytes(seed[2:])
    assert public_key_multibase(key.public_key()) == W3C_PUBLIC
    signed = create_proof(
        key,
        W3C_UNSIGNED,
        verification_method=W3C_METHOD,
        created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC),
    )
    assert signed["proof"]["proofValue"] == W3C_PROOF_VALUE  # Ed25519 is deterministic
    # the vector as published carries the @context in its proof: verified the same
    published = {**W3C_UNSIGNED, "proof": {**signed["proof"], "@context": W3C_CONTEXT}}
    public = Ed25519PublicKey.from_public_bytes(base58.b58decode(W3C_PUBLIC[1:])[2:])
    assert verify_proof(public, published, verification_method=W3C_METHOD)
    published["proof"]["@context"] = W3C_CONTEXT[1:]  # not a prefix of the document's
    assert not verify_proof(public, published, verification_method=W3C_METHOD)


def test_ccp_credential_shape(settings: Settings, ccp: Certificate) -> None:
    credential = badge_credential(settings, ccp, now=NOW)
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",  # 1EdTechRevocationList
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"urn:uuid:{uuid.uuid5(openbadges.CREDENTIAL_NAMESPACE, ccp.code)}"
    assert ccp.code not in json.dumps(credential)  # the code is not given away
    assert credential["credentialStatus"] == {
        "id": f"{settings.base_url}/openbadges/revocations",
        "type": "1EdTechRevocationList",
    }
    assert credential["issuer"]["id"] == f"{settings.base_url}/openbadges/issuer"
    assert credential["issuer"]["type"] == ["Profile"]
    assert credential["issuer"]["name"] == "CPNEFP du Régime général de Sécurité sociale"
    assert credential["validFrom"] == "2027-03-01T00:00:00+01:00"
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"][0]["identityHash"] == "Candidat Test"
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Certificate"
    assert achievement["id"].endswith("/openbadges/achievements/RNCP35543BC03")
    assert "Promotion des offres de services" in achievement["name"]
    assert "80 %" in achievement["criteria"]["narrative"]
    (alignment,) = achievement["alignment"]
    assert alignment == alignment | {
        "type": ["Alignment"],
        "targetUrl": "https://www.francecompetences.fr/recherche/rncp/35543/",
        "targetCode": "RNCP35543BC03",
        "targetFramework": "RNCP",
    }
    proof = credential["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"{settings.base_url}/openbadges/issuer#key-1"
    assert proof["created"] == "2027-03-02T10:00:00Z"
    assert proof["proofValue"].startswith("z")
    assert len(base58.b58decode(proof["proofValue"][1:])) == 64
    assert verify_badge(settings, credential)


def test_cqp_credential(db: Session, settings: Settings, world: World) -> None:
    cqp = issue_certificate(db, settings, world.own, kind=CertificateKind.CQP, store=False)
    credential = badge_credential(settings, cqp, now=NOW)
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Certification"
    assert achievement["alignment"][0]["targetCode"] == "RNCP35543"
    assert "tous les blocs" in achievement["criteria"]["narrative"]
    assert verify_badge(settings, credential)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c["credentialSubject"]["achievement"].update(name="CQP falsifié"),
        lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Autre Personne"),
        lambda c: c.update(validFrom="2020-01-01T00:00:00+01:00"),
        lambda c: c.pop("credentialStatus"),
        lambda c: c["credentialStatus"].update(id="https://ailleurs.example/revocations"),
        lambda c: c.update(id="urn:uuid:00000000-0000-0000-0000-000000000000"),
        lambda c: c["proof"].update(created="2027-03-03T10:00:00Z"),
        lambda c: c["proof"].update(proofValue="z" + "1" * 80),
        lambda c: c["proof"].update(verificationMethod="https://ailleurs.example/cle#1"),
        lambda c: c["proof"].update(cryptosuite="eddsa-rdfc-2022"),
        lambda c: c.pop("proof"),
        lambda c: c.update(proof="z123"),
    ],
)
def test_a_tampered_credential_fails(settings: Settings, ccp: Certificate, tamper: Any) -> None:
    credential = badge_credential(settings, ccp, now=NOW)
    tampered = copy.deepcopy(credential)
    tamper(tampered)
    assert verify_badge(settings, credential)
    assert not verify_badge(settings, tampered)


def test_the_key_is_generated_once_private_and_reused(settings: Settings) -> None:
    key = signing_key(settings)
    path = settings.data_dir / "keys" / openbadges.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    openbadges._keys.clear()  # as a fresh process would
    again = signing_key(settings)
    assert public_key_multibase(again.public_key()) == public_key_multibase(key.public_key())


def test_issuer_profile_publishes_the_key(client: TestClient, settings: Settings) -> None:
    response = client.get("/openbadges/issuer")
    assert response.status_code == 200
    profile = response.json()
    assert profile == json.loads(json.dumps(issuer_profile(settings)))
    assert profile["id"] == f"{settings.base_url}/openbadges/issuer"
    assert profile["type"] == ["Profile"]
    (method,) = profile["verificationMethod"]
    assert method["id"] == f"{settings.base_url}/openbadges/issuer#key-1"
    assert method["type"] == "Multikey"
    assert method["controller"] == profile["id"]
    assert method["publicKeyMultibase"].startswith("z6Mk")
    assert profile["assertionMethod"] == [method["id"]]
    # the published key is the one that verifies the credentials
    raw = base58.b58decode(method["publicKeyMultibase"][1:])[2:]
    public = Ed25519PublicKey.from_public_bytes(raw)
    assert public_key_multibase(public) == public_key_multibase(signing_key(settings).public_key())


def test_the_holder_downloads_the_badge(
    client: TestClient, db: Session, settings: Settings, world: World, ccp: Certificate
) -> None:
    sign_in_as(client, db, settings, world.people["candidat"])
    response = client.get(f"/certificats/{ccp.id}/badge.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert 'filename="CCP-RNCP35543BC03-Test-badge.json"' in response.headers["content-disposition"]
    assert verify_badge(settings, response.json())
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.badge")).all()
    assert [entry.object_id for entry in audit] == [str(ccp.id)]


def test_no_badge_for_a_revoked_certificate(
    client: TestClient, db: Session, settings: Settings, world: World, ccp: Certificate
) -> None:
    ccp.revoked_at = NOW
    db.flush()
    sign_in_as(client, db, settings, world.people["candidat"])
    response = client.get(f"/certificats/{ccp.id}/badge.json")
    assert response.status_code == 410
    assert "révoqué" in response.text


def test_the_credential_id_is_stable_and_one_per_certificate(
    db: Session, settings: Settings, world: World, ccp: Certificate
) -> None:
    first = badge_credential(settings, ccp, now=NOW)
    later = badge_credential(settings, ccp, now=datetime(2028, 1, 5, tzinfo=UTC))
    assert first["id"] == later["id"] == credential_id(ccp)
    assert first["id"].startswith("urn:uuid:") and uuid.UUID(first["id"][9:]).version == 5
    other = issue_certificate(db, settings, world.own, bloc_key="GRU", store=False)
    assert credential_id(other) != credential_id(ccp)


# --- achievements at their id ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "bloc_key", "code"),
    [(CertificateKind.CCP, "POS", "RNCP35543BC03"), (CertificateKind.CQP, None, "RNCP35543")],
)
def test_the_achievement_is_served_at_its_id(
    client: TestClient,
    db: Session,
    settings: Settings,
    world: World,
    kind: CertificateKind,
    bloc_key: str | None,
    code: str,
) -> None:
    certificate = issue_certificate(db, settings, world.own, kind=kind, bloc_key=bloc_key)
    embedded = badge_credential(settings, certificate, now=NOW)["credentialSubject"]["achievement"]
    assert embedded["id"] == f"{settings.base_url}/openbadges/achievements/{code}"
    response = client.get(f"/openbadges/achievements/{code}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(json.dumps(embedded))  # the very same object


def test_gc_achievements_and_an_unknown_code(client: TestClient, settings: Settings) -> None:
    gc = client.get("/openbadges/achievements/RNCP35729").json()
    assert gc["achievementType"] == "Certification" and gc["humanCode"] == "RNCP35729"
    assert gc["alignment"][0]["targetUrl"].endswith("/rncp/35729/")
    bloc = client.get("/openbadges/achievements/RNCP35729BC01").json()  # GRU, in GC
    assert bloc["achievementType"] == "Certificate"
    assert "Gestion de la relation usagers" in bloc["name"]
    assert "(RNCP35729)" in bloc["description"]
    for unknown in ("RNCP99999", "rncp35543", "RNCP35543BC99", "%00"):
        response = client.get(f"/openbadges/achievements/{unknown}")
        assert response.status_code == 404, unknown
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"] == "not_found"


# --- revocation list ---------------------------------------------------------------------------


def test_the_revocation_list_names_revoked_credentials_only(
    client: TestClient, db: Session, settings: Settings, world: World, ccp: Certificate
) -> None:
    valid = issue_certificate(db, settings, world.own, bloc_key="GRU", store=False)
    badge = badge_credential(settings, ccp, now=NOW)  # downloaded before the revocation
    empty = client.get("/openbadges/revocations")
    assert empty.status_code == 200 and empty.json()["revokedCredentials"] == []
    ccp.revoked_at = NOW
    ccp.revoked_reason = "Motif interne à ne pas publier"
    db.flush()
    response = client.get("/openbadges/revocations")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    # what the badge's credentialStatus points at, from its issuer
    assert document["id"] == badge["credentialStatus"]["id"]
    assert document["issuer"] == badge["issuer"]["id"]
    assert document["revokedCredentials"] == [{"id": badge["id"]}]  # no revocationReason
    assert credential_id(valid) not in response.text
    assert "Motif interne" not in response.text and ccp.code not in response.text
    assert verify_badge(settings, badge)  # the proof stands: the list says it is revoked
