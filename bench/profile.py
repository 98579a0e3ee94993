"""CPU cost of each key page, in-process (no server, no network): the figure that moves least on a
shared machine, to compare a change before and after. Optionally a pyinstrument profile.

    .venv/bin/python -m bench.profile var/bench/bench-1.sqlite3
    .venv/bin/python -m bench.profile var/bench/bench-1.sqlite3 --page carnet --profile

Each page: one warm-up request, then ``--runs`` requests; per request the median CPU ms, the
minimum CPU ms (the least disturbed by other processes) and the median wall ms.
"""

from __future__ import annotations

import os

os.environ["VAE_BENCH"] = "1"  # before portal.app is imported: registers /bench/ceiling

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.load import _sign_in_testclient  # noqa: E402
from bench.targets import pick  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.settings import REPO_ROOT, load_settings  # noqa: E402


async def get(app: Any, path: str, cookies: dict[str, str]) -> int:
    """One GET through the ASGI app in this thread (a TestClient runs it in another one, out of
    the profiler's sight)."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie)],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(app: Any, path: str, cookies: dict[str, str], runs: int, profile: bool) -> None:
    status = await get(app, path, cookies)  # warm-up
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(runs):
        started_cpu, started = time.process_time(), time.perf_counter()
        await get(app, path, cookies)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    if profiler is not None:
        profiler.stop()
    print(
        f"{statistics.median(cpu) * 1000:8.1f} {min(cpu) * 1000:8.1f} "
        f"{statistics.median(wall) * 1000:8.1f}  {status}",
        flush=True,
    )
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a SQLite file or a database URL")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument, printed")
    args = parser.parse_args()
    url = args.database if "://" in args.database else f"sqlite:///{Path(args.database).resolve()}"
    engine = make_engine(url)
    targets = pick(engine)
    engine.dispose()
    data_dir = REPO_ROOT / "var" / "bench" / "data-profile"
    if args.profile:
        # views run in a thread pool, out of the profiler's sight: run them inline instead
        import portal.web

        async def inline(func: Any, *a: Any, **kw: Any) -> Any:
            return func(*a, **kw)

        portal.web.run_in_threadpool = inline  # type: ignore[assignment]
    app = create_app(load_settings({"DATABASE_URL": url, "DATA_DIR": str(data_dir)}))
    cookies = _sign_in_testclient(app, targets)
    pages = [p for p in targets.pages if not args.page or p.name in args.page]
    print(f"{'page':22} {'cpu ms':>8} {'min':>8} {'wall ms':>8}  status")
    for page in pages:
        print(f"{page.name:22} ", end="", flush=True)
        asyncio.run(measure(app, page.path, cookies[page.role], args.runs, args.profile))
    app.state.engine.dispose()


if __name__ == "__main__":
    main()
