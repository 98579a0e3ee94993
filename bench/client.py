"""The load client: aiohttp on loopback, one event loop, N concurrent workers per page."""

from __future__ import annotations

import asyncio
import html
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.dataset import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    client_errors: dict[str, int] = field(default_factory=dict)  # status 599: exception names
    elapsed: float = 0.0

    def add(self, status: int, seconds: float, ok: bool) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if not ok:
            self.errors += 1

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        count = len(lat)

        def pct(p: float) -> float:
            return round(lat[min(count - 1, int(p * count))] * 1000, 2) if count else 0.0

        return {
            "requests": count,
            "rps": round(count / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if count else 0.0,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "client_errors": self.client_errors,
        }


def connector() -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0, force_close=False)


async def sign_in(base: str, email: str) -> dict[str, str]:
    """The cookies of a signed-in browser, through the real sign-in form."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
        async with http.get("/connexion") as response:
            token = CSRF.search(await response.text())
        assert token, "no CSRF token on the sign-in page"
        form = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
        async with http.post("/connexion", data=form, allow_redirects=False) as response:
            if response.status != 303:
                raise RuntimeError(f"sign-in of {email} failed: HTTP {response.status}")
        return {c.key: c.value for c in jar}


async def timed_get(
    base: str, path: str, cookies: dict[str, str], concurrency: int, duration: float
) -> Sample:
    sample = Sample()
    async with aiohttp.ClientSession(base, cookies=cookies, connector=connector()) as http:
        async with http.get(path) as warm:  # one request outside the measure
            await warm.read()
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    async with http.get(path, allow_redirects=False) as response:
                        await response.read()
                        status = response.status
                except aiohttp.ClientError as error:
                    status = 599
                    name = type(error).__name__
                    sample.client_errors[name] = sample.client_errors.get(name, 0) + 1
                sample.add(status, time.perf_counter() - started, status == 200)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sample.elapsed = time.perf_counter() - started
    return sample


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    return found.group(1) if found else ""


def _checked(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]+)"[^>]*checked', page)


async def autosave_cycle(
    http: aiohttp.ClientSession, path: str, state: dict[str, Any], sample: Sample
) -> None:
    """The candidate's livret situation page, then an autosave of a changed rubric."""
    if "lock" not in state:
        started = time.perf_counter()
        async with http.get(path) as response:
            page = await response.text()
        sample.add(response.status, time.perf_counter() - started, response.status == 200)
        if response.status != 200:
            return  # an error page has no form to post: try again next time
        lock = re.search(r'name="lock_version" id="lock-version" value="(\d+)"', page)
        state.update(
            lock=lock.group(1) if lock else "0",
            csrf=_csrf(page),
            competences=_checked(page, "competence_keys"),
            criteria=_checked(page, "criterion_keys"),
            n=0,
        )
    state["n"] += 1
    text = f"Version {state['n']} : " + "J'ai reformulé la demande de l'assurée. " * 30
    form: list[tuple[str, str]] = [
        ("csrf_token", state["csrf"]),
        ("lock_version", state["lock"]),
        ("title", "Accueil d'une assurée en rupture de droits"),
        ("period_from", "2024-01-01"),
        ("period_to", "2024-06-30"),
        ("organisme_service", "Accueil, agence centrale"),
        ("context", text),
        ("actions", text),
        ("means", text),
        ("collaborators", text),
        ("result", text),
        ("learnings", text),
        *(("competence_keys", key) for key in state["competences"]),
        *(("criterion_keys", key) for key in state["criteria"]),
    ]
    started = time.perf_counter()
    async with http.post(path + "/autosave", data=form, headers={"HX-Request": "true"}) as response:
        body = await response.text()
    sample.add(response.status, time.perf_counter() - started, response.status == 200)
    lock = re.search(r'name="lock_version" id="lock-version" value="(\d+)"', body)
    if lock:
        state["lock"] = lock.group(1)
    else:
        state.pop("lock", None)  # read the page again next time


async def attest_cycle(
    http: aiohttp.ClientSession, path: str, state: dict[str, Any], sample: Sample
) -> None:
    """The tutor's attestation form, then a saved draft (303 to the confirmation step)."""
    started = time.perf_counter()
    async with http.get(path) as response:
        page = await response.text()
    sample.add(response.status, time.perf_counter() - started, response.status == 200)
    if response.status != 200:
        return  # an error page has no form to post: try again next time
    base = re.search(r'name="base_number" value="(\d+)"', page)
    lock = re.search(r'name="lock_version" value="(\d+)"', page)
    criteria = re.findall(r'name="observed" value="([^"]+)"', page)
    state["n"] = state.get("n", 0) + 1
    form: list[tuple[str, str]] = [
        ("csrf_token", _csrf(page)),
        ("base_number", base.group(1) if base else "0"),
        ("lock_version", lock.group(1) if lock else "0"),
        ("situation_date", "2026-10-01"),
        ("situation_kind", "accueil_physique"),
        ("description", html.escape(f"Observation n°{state['n']} : ") + "entretien suivi. " * 20),
        *(("observed", key) for key in criteria),
        ("verdict", "maitrisee"),
        ("comment", "Très bonne maîtrise."),
    ]
    started = time.perf_counter()
    async with http.post(path, data=form, allow_redirects=False) as response:
        await response.read()
    sample.add(response.status, time.perf_counter() - started, response.status == 303)
