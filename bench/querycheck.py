"""Flat cost as data grows: SQL statements and response size per page on datasets of several
scales, side by side; pages whose count differs are flagged (an N+1 query somewhere).

Besides the benchmarked pages, the administrator's views of the same objects and the lists
an administrator reads (those are where "every row of a table" loops hide).

    .venv/bin/python -m bench.querycheck var/bench/bench-0.1.sqlite3 var/bench/bench-1.sqlite3
"""

from __future__ import annotations

import os

os.environ["VAE_BENCH"] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import event  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from bench.load import _sign_in_testclient  # noqa: E402
from bench.queries import _shape, counted  # noqa: E402
from bench.targets import Page, Targets, pick  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.settings import load_settings  # noqa: E402


def admin_pages(targets: Targets) -> list[Page]:
    by_name = {p.name: p for p in targets.pages}
    return [
        Page("jury session (admin)", "admin", by_name["jury session"].path),
        Page("national session (admin)", "admin", by_name["national session"].path),
        Page("evaluation grid (admin)", "admin", by_name["evaluation grid"].path),
        Page("carnet (admin)", "admin", by_name["carnet"].path),
        Page("admin dashboard", "admin", "/tableau-de-bord"),
        Page("jury sessions list (admin)", "admin", "/jury/sessions"),
        Page("national sessions list", "jury_national", "/national/sessions"),
        Page("certificates (admin)", "admin", "/admin/certificats"),
        Page("users (admin)", "admin", "/admin/utilisateurs"),
        Page("statistics (admin)", "admin", "/admin/statistiques"),
        Page("tutor carnet", "tuteur", by_name["carnet"].path),
    ]


def measure(url: str) -> dict[str, dict[str, Any]]:
    engine = make_engine(url)
    targets = pick(engine)
    engine.dispose()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(load_settings({"DATABASE_URL": url, "DATA_DIR": folder}))
        cookies = _sign_in_testclient(app, targets)
        statements: list[str] = []

        def listen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            if counted(statement):
                statements.append(statement)

        event.listen(app.state.engine, "before_cursor_execute", listen)
        result: dict[str, dict[str, Any]] = {}
        for page in [*targets.pages, *admin_pages(targets)]:
            with TestClient(app, base_url="http://127.0.0.1") as http:
                http.cookies.update(cookies.get(page.role, {}))
                http.get(page.path)
                statements.clear()
                response = http.get(page.path, follow_redirects=False)
            shapes: dict[str, int] = {}
            for statement in statements:
                shapes[_shape(statement)] = shapes.get(_shape(statement), 0) + 1
            result[page.name] = {
                "status": response.status_code,
                "queries": len(statements),
                "kib": round(len(response.content) / 1024, 1),
                "shapes": shapes,
            }
        app.state.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="+", help="SQLite files or database URLs")
    args = parser.parse_args()
    urls = [d if "://" in d else f"sqlite:///{d}" for d in args.databases]
    results = [measure(url) for url in urls]
    print(f"{'page':28} " + " ".join(f"{'SQL':>5} {'KiB':>7} {'HTTP':>4}" for _ in urls))
    for name in results[0]:
        cells = [results[i].get(name, {}) for i in range(len(urls))]
        counts = {c.get("queries") for c in cells}
        flag = "  GROWS" if len(counts) > 1 else ""
        print(
            f"{name:28} "
            + " ".join(
                f"{c.get('queries', ''):>5} {c.get('kib', ''):>7} {c.get('status', ''):>4}"
                for c in cells
            )
            + flag
        )
        if flag:
            first, last = cells[0]["shapes"], cells[-1]["shapes"]
            for shape in sorted(set(first) | set(last), key=lambda s: -last.get(s, 0)):
                if first.get(shape, 0) != last.get(shape, 0):
                    print(f"    {first.get(shape, 0):>5} → {last.get(shape, 0):<5} {shape}")


if __name__ == "__main__":
    main()
