"""The public upload form must be able to post: a page served under "Referrer-Policy:
no-referrer" makes a browser send its form posts with "Origin: null", which the cross-site check
refuses (found by the decisions browser journey)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.portal.policy_certificates import issue_certificate
from tests.portal.world import build_world
from vae.decision.models import Certificate


@pytest.fixture
def certificate(db: Session, settings: Settings) -> Certificate:
    return issue_certificate(db, settings, build_world(db).own, bloc_key="POS")


def test_the_upload_page_keeps_the_origin_of_its_posts(client: TestClient) -> None:
    response = client.get("/verifier")
    assert response.status_code == 200
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["referrer-policy"] == "same-origin"


def test_a_code_page_sends_no_referrer(client: TestClient, certificate: Certificate) -> None:
    for path in (f"/verifier/{certificate.code}", "/verifier/AAAA-AAAA-AAAA-AAAA"):
        assert client.get(path).headers["referrer-policy"] == "no-referrer"


def test_a_post_with_a_null_origin_is_refused(client: TestClient) -> None:
    """Why the upload page may not be "no-referrer": this is what its form would send."""
    client.get("/verifier")
    token = client.cookies.get("csrf") or ""
    files = {"file": ("c.pdf", b"%PDF-1.7\n", "application/pdf")}
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    refused = client.post("/verifier", data={"csrf_token": token}, files=files, headers=headers)
    assert refused.status_code == 403
    headers["Origin"] = str(client.base_url).rstrip("/")
    accepted = client.post("/verifier", data={"csrf_token": token}, files=files, headers=headers)
    assert accepted.status_code == 200
    assert 'id="result-title"' in accepted.text  # the file was checked
