"""Writers that stream real requests at the server, each in its own thread with its own
signed-in browser (cookies + CSRF token read from the pages), and remember every write the
server acknowledged (a success status). They stop at the first transport error: the kill."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field

import httpx2 as httpx

from portal.demo import DEMO_PASSWORD
from tests.fixtures import pdfs

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TIMEOUT = httpx.Timeout(30.0)


def signed_in(base_url: str, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False)
    page = client.get("/connexion")
    token = CSRF.search(page.text)
    assert token, page.text[:500]
    answer = client.post(
        "/connexion",
        data={"csrf_token": token.group(1), "email": email, "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 303, answer.text[:1000]
    home = client.get("/compte")
    session_token = CSRF.search(home.text)
    assert session_token, home.text[:500]
    return client, session_token.group(1)


def attestation_form(
    token: str, fields: dict[str, str], observed: list[str], number: int
) -> dict[str, object]:
    """A tutor's attestation draft, as the form posts it."""
    return {
        "csrf_token": token,
        **fields,
        "situation_date": "2026-11-02",
        "situation_kind": "accueil_telephonique",
        "description": f"Observation n°{number} de l'accueil d'un assuré.",
        "observed": observed,
        "verdict": "maitrisee",
        "comment": "",
    }


@dataclass
class Writer:
    client: httpx.Client
    token: str
    stop: threading.Event
    sent: int = 0
    error: str = ""  # the transport error that ended the stream (the kill)
    unexpected: list[str] = field(default_factory=list)  # non-success answers

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except httpx.TransportError as error:
            self.error = type(error).__name__
        except Exception as error:  # reported by the test, never swallowed
            self.unexpected.append(f"{type(error).__name__}: {error}")
        finally:
            self.client.close()

    def step(self) -> None:
        raise NotImplementedError


@dataclass
class Autosaver(Writer):
    situation_id: int = 0
    lock_version: int = 1
    acked: list[tuple[int, str]] = field(default_factory=list)  # (lock version after, text)
    in_flight: list[str] = field(default_factory=list)

    def step(self) -> None:
        text = f"Autosave n°{self.sent + 1} : j'ai accueilli l'assuré. " * 20
        self.in_flight = [text]
        self.sent += 1
        answer = self.client.post(
            f"/livret/situations/{self.situation_id}/autosave",
            headers={"HX-Request": "true"},
            data={
                "csrf_token": self.token,
                "lock_version": str(self.lock_version),
                "title": f"Situation sous autosave {self.sent}",
                "actions": text,
            },
        )
        version = re.search(r'id="lock-version" value="(\d+)"', answer.text)
        if answer.status_code != 200 or not version:
            self.unexpected.append(f"autosave {answer.status_code}")
            return
        self.lock_version = int(version.group(1))
        self.acked.append((self.lock_version, text))
        self.in_flight = []


@dataclass
class Uploader(Writer):
    situation_id: int = 0
    acked: list[str] = field(default_factory=list)  # sha256 of each acknowledged annex

    def step(self) -> None:
        self.sent += 1
        data = pdfs.valid_pdf(1 + self.sent % 3, text=f"Annexe {self.sent}")
        answer = self.client.post(
            f"/livret/situations/{self.situation_id}/annexes",
            data={"csrf_token": self.token},
            files={"file": (f"annexe-{self.sent}.pdf", data, "application/pdf")},
        )
        if answer.status_code != 303:
            self.unexpected.append(f"annex {answer.status_code}")
            return
        self.acked.append(hashlib.sha256(data).hexdigest())


@dataclass
class Attester(Writer):
    parcours_id: int = 0
    competences: list[str] = field(default_factory=list)
    drafts: list[int] = field(default_factory=list)  # acknowledged draft version ids
    signatures: list[tuple[int, str]] = field(default_factory=list)  # (version id, hash)

    def step(self) -> None:
        key = self.competences[self.sent % len(self.competences)]
        self.sent += 1
        base = f"/parcours/{self.parcours_id}/carnet"
        form = self.client.get(f"{base}/{key}/attester").text
        fields = dict(re.findall(r'name="(base_number|lock_version)" value="(\d+)"', form))
        observed = re.findall(r'name="observed" value="([^"]+)"', form)
        draft = self.client.post(
            f"{base}/{key}/attester",
            data=attestation_form(self.token, fields, observed, self.sent),
        )
        target = re.search(r"/versions/(\d+)/signer$", draft.headers.get("location", ""))
        if draft.status_code != 303 or not target:
            self.unexpected.append(f"attest {draft.status_code}")
            return
        self.drafts.append(int(target.group(1)))
        confirm = self.client.get(draft.headers["location"]).text
        digest = re.search(r'name="content_hash" value="([0-9a-f]{64})"', confirm)
        if not digest:
            self.unexpected.append("confirmation page without a hash")
            return
        signed = self.client.post(
            draft.headers["location"],
            data={"csrf_token": self.token, "content_hash": digest.group(1)},
        )
        if signed.status_code != 303:
            self.unexpected.append(f"sign {signed.status_code}")
            return
        self.signatures.append((int(target.group(1)), digest.group(1)))
