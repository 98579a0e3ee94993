"""The benchmark (issue 9): dataset, the app served by uvicorn in a subprocess, an async load
client on loopback, SQL statements per page, the ceiling page in the same run, PDF figures,
and a mixed read/write run. Prints a table and writes ``bench-results.json``.

    .venv/bin/python -m bench.load --scale 0.1                      # SQLite, 1 worker
    .venv/bin/python -m bench.load --scale 1 --workers 1,2 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/vae_bench

Figures are noisy on a shared machine: every page is also given as a ratio to the ceiling page
(one query, one small template) measured by the same server in the same run.
"""

from __future__ import annotations

import os

os.environ["VAE_BENCH"] = "1"  # before portal.app is imported: registers /bench/ceiling

import argparse  # noqa: E402
import asyncio  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import inspect  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import client, mixed, report  # noqa: E402
from bench.dataset import fresh_database, generate  # noqa: E402
from bench.server import Server  # noqa: E402
from bench.targets import Targets, pick  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.settings import REPO_ROOT, load_settings  # noqa: E402


def dataset(url: str, scale: float, reuse: bool) -> tuple[Any, float | None]:
    """The engine on a dataset at ``scale``; generated unless ``reuse`` and already there."""
    if reuse:
        engine = make_engine(url)
        if inspect(engine).has_table("parcours"):
            return engine, None
        engine.dispose()
    started = time.perf_counter()
    engine = fresh_database(url)
    generate(engine, scale)
    return engine, round(time.perf_counter() - started, 1)


async def sign_in_all(base: str, targets: Targets) -> dict[str, dict[str, str]]:
    roles = {role: await client.sign_in(base, email) for role, email in targets.users.items()}
    roles[""] = {}
    return roles


async def measure_pages(
    base: str,
    targets: Targets,
    cookies: dict[str, dict[str, str]],
    levels: list[int],
    duration: float,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    ceiling = targets.pages[0]
    for page in [*targets.pages, ceiling]:  # the ceiling first and last: drift shows
        key = page.name if page.name not in results else "ceiling (end)"
        results[key] = {"path": page.path, "role": page.role, "levels": {}}
        for level in levels:
            sample = await client.timed_get(base, page.path, cookies[page.role], level, duration)
            results[key]["levels"][str(level)] = sample.summary()
            print(
                f"  {key:22} c={level:<3} {results[key]['levels'][str(level)]['rps']:>8} rps",
                flush=True,
            )
    return results


def run_server(
    args: argparse.Namespace, engine: Any, targets: Targets, workers: int, data_dir: Path
) -> dict[str, Any]:
    url = engine.url.render_as_string(hide_password=False)
    server = Server(url, data_dir, args.port, workers)
    try:
        cookies = asyncio.run(sign_in_all(server.base, targets))
        levels = [int(v) for v in args.concurrency.split(",")]
        pages = asyncio.run(measure_pages(server.base, targets, cookies, levels, args.duration))
        mix = None
        if args.mixed_duration > 0:
            print(
                f"  mixed run: {args.mixed_clients} clients, {args.mixed_duration:.0f} s",
                flush=True,
            )
            mix = asyncio.run(
                mixed.run(server.base, targets, cookies, args.mixed_clients, args.mixed_duration)
            )
    finally:
        server.stop()
    return {"workers": workers, "pages": pages, "mixed": mix, "server_log": str(server.log_path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--database-url", help="default: a SQLite file under var/bench/")
    parser.add_argument("--reuse", action="store_true", help="keep an existing dataset")
    parser.add_argument("--workers", default="1", help="uvicorn workers, e.g. 1,2")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per page and level")
    parser.add_argument("--mixed-clients", type=int, default=64)
    parser.add_argument("--mixed-duration", type=float, default=60.0, help="0 to skip")
    parser.add_argument("--pdf-runs", type=int, default=3, help="0 to skip the PDF figures")
    parser.add_argument("--pack-candidates", type=int, default=30)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results.json")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{REPO_ROOT}/var/bench/bench-{args.scale:g}.sqlite3"
    engine_name = make_url(url).get_backend_name()
    report.machine_start()
    print(f"== dataset: {engine_name}, scale {args.scale:g}", flush=True)
    engine, generated = dataset(url, args.scale, args.reuse)
    if generated is not None:
        print(f"   generated in {generated} s", flush=True)
    targets = pick(engine)
    data_dir = REPO_ROOT / "var" / "bench" / f"data-{engine_name}-{args.scale:g}"
    print("== SQL statements per page (in-process)", flush=True)
    queries = count_queries(engine, targets, data_dir)
    runs = []
    for workers in [int(w) for w in args.workers.split(",")]:
        print(f"== load: uvicorn, {workers} worker(s)", flush=True)
        runs.append(run_server(args, engine, targets, workers, data_dir))
    pdf = []
    if args.pdf_runs > 0:
        print("== PDF figures", flush=True)
        from bench.pdfs import all_figures

        pdf = all_figures(engine, args.pdf_runs, args.pack_candidates)
    result = report.build(
        engine=engine_name,
        scale=args.scale,
        generated_s=generated,
        queries=queries,
        runs=runs,
        pdf=pdf,
        counts=report.row_counts(engine),
    )
    engine.dispose()
    report.print_result(result)
    report.save(args.out, result)
    print(f"written: {args.out}")


def count_queries(engine: Any, targets: Targets, data_dir: Path) -> dict[str, Any]:
    from bench import queries
    from portal.app import create_app

    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings({"DATABASE_URL": url, "DATA_DIR": str(data_dir)})
    app = create_app(settings)
    cookies = _sign_in_testclient(app, targets)
    result = queries.count(app, targets.pages, cookies)
    app.state.engine.dispose()
    return result


def _sign_in_testclient(app: Any, targets: Targets) -> dict[str, dict[str, str]]:
    from starlette.testclient import TestClient

    from bench.dataset import PASSWORD

    cookies: dict[str, dict[str, str]] = {"": {}}
    for role, email in targets.users.items():
        with TestClient(app, base_url="http://127.0.0.1") as http:
            page = http.get("/connexion").text
            token = client.CSRF.search(page)
            assert token
            response = http.post(
                "/connexion",
                data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
                follow_redirects=False,
            )
            assert response.status_code == 303, (email, response.status_code)
            cookies[role] = dict(http.cookies.items())
    return cookies


if __name__ == "__main__":
    main()
