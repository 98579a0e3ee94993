"""The result: ratios to the ceiling, the issue's targets, a terminal table, bench-results.json."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from portal.models import metadata

TARGET_RATIO_32 = 0.5  # ≥ 50 % of the ceiling's throughput at 32 clients
TARGET_P95_8_MS = 50.0  # p95 ≤ 50 ms at 8 clients (SQLite)
COUNTED = (
    "organisations",
    "users",
    "parcours",
    "attestation_versions",
    "situations",
    "jury_sessions",
    "convocations",
    "evaluations",
    "national_dossiers",
    "certificates",
)
_load_start: tuple[float, float, float] | None = None


def machine_start() -> None:
    global _load_start
    _load_start = os.getloadavg()


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "loadavg_start": _load_start,
        "loadavg_end": os.getloadavg(),
    }


def row_counts(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(metadata.tables[name]))
            for name in COUNTED
        }


def _pages(run: dict[str, Any], queries: dict[str, Any], engine: str) -> list[dict[str, Any]]:
    pages = run["pages"]
    ceilings = [pages["ceiling"]["levels"], pages.get("ceiling (end)", pages["ceiling"])["levels"]]
    rows = []
    for name, page in pages.items():
        levels = {}
        for level, figures in page["levels"].items():
            ceiling_rps = sum(c[level]["rps"] for c in ceilings) / len(ceilings)
            levels[level] = {
                **figures,
                "ratio_to_ceiling": round(figures["rps"] / ceiling_rps, 3) if ceiling_rps else None,
            }
        targets = {}
        if not name.startswith("ceiling") and "32" in levels:
            targets["rps_32_ge_half_ceiling"] = levels["32"]["ratio_to_ceiling"] >= TARGET_RATIO_32
        if not name.startswith("ceiling") and "8" in levels and engine == "sqlite":
            targets["p95_8_le_50ms"] = levels["8"]["p95_ms"] <= TARGET_P95_8_MS
        rows.append(
            {
                "page": name,
                "path": page["path"],
                "role": page["role"],
                "queries": queries.get(name if name != "ceiling (end)" else "ceiling", {}).get(
                    "queries"
                ),
                "levels": levels,
                "targets": targets,
            }
        )
    return rows


def build(
    *,
    engine: str,
    scale: float,
    generated_s: float | None,
    queries: dict[str, Any],
    runs: list[dict[str, Any]],
    pdf: list[dict[str, Any]],
    counts: dict[str, int],
) -> dict[str, Any]:
    return {
        "engine": engine,
        "scale": scale,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {"generated_s": generated_s, "rows": counts},
        "machine": machine(),
        "queries": queries,
        "runs": [
            {"workers": r["workers"], "pages": _pages(r, queries, engine), "mixed": r["mixed"]}
            for r in runs
        ],
        "pdf": pdf,
    }


def print_result(result: dict[str, Any]) -> None:
    print(
        f"\n== {result['engine']}, scale {result['scale']:g}, rows "
        + ", ".join(f"{k} {v:,}" for k, v in result["dataset"]["rows"].items())
    )
    m = result["machine"]
    print(
        f"   {m['cpus']} CPU {m['cpu_model']}, load average {m['loadavg_start']} → "
        f"{m['loadavg_end']} (shared machine: compare ratios)"
    )
    for run in result["runs"]:
        levels = list(run["pages"][0]["levels"])
        print(f"\n-- uvicorn {run['workers']} worker(s)")
        head = f"{'page':22} {'SQL':>4} " + " ".join(
            f"{'c=' + lv + ' rps':>11} {'p50':>6} {'p95':>6} {'p99':>6} {'×ceil':>6}"
            for lv in levels
        )
        print(head)
        for page in run["pages"]:
            cells = []
            for lv in levels:
                f = page["levels"][lv]
                cells.append(
                    f"{f['rps']:>11} {f['p50_ms']:>6} {f['p95_ms']:>6} {f['p99_ms']:>6} "
                    f"{f['ratio_to_ceiling']:>6}"
                )
            missed = [k for k, ok in page["targets"].items() if not ok]
            flag = "  MISSED: " + ", ".join(missed) if missed else ""
            errors = sum(page["levels"][lv]["errors"] for lv in levels)
            flag += f"  ERRORS: {errors}" if errors else ""
            print(
                f"{page['page']:22} {page['queries'] if page['queries'] is not None else '':>4} "
                + " ".join(cells)
                + flag
            )
        mix = run["mixed"]
        if mix:
            print(
                f"mixed: {mix['clients']} clients {mix['duration_s']} s, {mix['requests']} "
                f"requests, errors {mix['errors']} (read {mix['read']['rps']} rps p95 "
                f"{mix['read']['p95_ms']} ms; autosave {mix['autosave']['rps']} rps p95 "
                f"{mix['autosave']['p95_ms']} ms {mix['autosave']['statuses']}; attestation "
                f"{mix['attest']['rps']} rps p95 {mix['attest']['p95_ms']} ms "
                f"{mix['attest']['statuses']})"
            )
    for fig in result["pdf"]:
        print(
            f"pdf: {fig['name']}: {fig['ms']} ms, bare reportlab {fig['bare_ms']} ms, "
            f"ratio {fig['ratio_to_bare']}"
            + (
                f" (CPU {fig['cpu_ms']} vs {fig['bare_cpu_ms']} ms: {fig['cpu_ratio_to_bare']})"
                if "cpu_ms" in fig
                else ""
            )
            + (f", {fig['pages']} pages" if "pages" in fig else "")
            + (f", {fig['per_candidate_ms']} ms per candidate" if "per_candidate_ms" in fig else "")
            + (f", unsealed {fig['unsealed_ms']} ms" if "unsealed_ms" in fig else "")
        )


def save(path: Path, result: dict[str, Any]) -> None:
    """One entry per (engine, scale): a later run replaces the same engine and scale."""
    data: dict[str, Any] = {"results": []}
    if path.exists():
        with contextlib.suppress(ValueError):
            data = json.loads(path.read_text())
    kept = [
        r
        for r in data.get("results", [])
        if (r.get("engine"), r.get("scale")) != (result["engine"], result["scale"])
    ]
    data["results"] = [*kept, result]
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False))
