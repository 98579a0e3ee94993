"""The mixed run: N concurrent clients for a fixed time, a quarter autosaving their livret
situation, a quarter saving attestation drafts, half reading the key pages. Every answer that
is not the expected one (200, or 303 after an attestation draft) counts as an error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench import client
from bench.targets import Targets


async def run(
    base: str, targets: Targets, cookies: dict[str, dict[str, str]], clients: int, duration: float
) -> dict[str, Any]:
    writers = {
        "autosave": [w for w in targets.writers if w[0] == "autosave"],
        "attest": [w for w in targets.writers if w[0] == "attest"],
    }
    quarter = clients // 4
    plan: list[tuple[str, Any]] = []
    for kind in ("autosave", "attest"):
        for number in range(quarter):
            plan.append((kind, writers[kind][number % len(writers[kind])]))
    pages = [p for p in targets.pages if p.name != "ceiling"]
    for number in range(clients - len(plan)):
        plan.append(("read", pages[number % len(pages)]))
    # sign in each distinct writer once
    writer_cookies: dict[str, dict[str, str]] = {}
    for kind, item in plan:
        if kind != "read" and item[1] not in writer_cookies:
            writer_cookies[item[1]] = await client.sign_in(base, item[1])
    samples = {"read": client.Sample(), "autosave": client.Sample(), "attest": client.Sample()}
    deadline = time.perf_counter() + duration
    shared_writers = _shared(plan)

    async def one(kind: str, item: Any) -> None:
        jar = cookies[item.role] if kind == "read" else writer_cookies[item[1]]
        state: dict[str, Any] = {}
        async with aiohttp.ClientSession(base, cookies=jar, connector=client.connector()) as http:
            while time.perf_counter() < deadline:
                try:
                    if kind == "read":
                        started = time.perf_counter()
                        async with http.get(item.path, allow_redirects=False) as response:
                            await response.read()
                        ok = response.status == 200
                        samples["read"].add(response.status, time.perf_counter() - started, ok)
                    elif kind == "autosave":
                        await client.autosave_cycle(http, item[2], state, samples["autosave"])
                    else:
                        await client.attest_cycle(http, item[2], state, samples["attest"])
                except aiohttp.ClientError as error:
                    samples[kind].add(599, 0.0, False)
                    name = type(error).__name__
                    errors = samples[kind].client_errors
                    errors[name] = errors.get(name, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(one(kind, item) for kind, item in plan))
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "writers_sharing_an_object": shared_writers,
    }
    for kind, sample in samples.items():
        sample.elapsed = elapsed
        result[kind] = sample.summary()
    result["errors"] = sum(s.errors for s in samples.values())
    result["requests"] = sum(len(s.latencies) for s in samples.values())
    return result


def _shared(plan: list[tuple[str, Any]]) -> int:
    """Writers given the same object (when the dataset has fewer than clients/4 of them): two
    tabs of one person, where a 409 conflict view is the expected answer, not a failure."""
    paths = [item[2] for kind, item in plan if kind != "read"]
    return len(paths) - len(set(paths))
