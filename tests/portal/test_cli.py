"""The CLI: one clear line and a non-zero exit on bad input, no traceback, nothing half-loaded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from vae.referentiel import loader
from vae.referentiel.models import ReferentielVersion

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "DATA_DIR": str(tmp_path)}


def test_upgrade_load_demo_export_and_verify(fresh_env: dict[str, str], tmp_path: Path) -> None:
    assert run("db", "upgrade", env=fresh_env).returncode == 0
    first = run("referentiel", "load", env=fresh_env)
    assert first.returncode == 0, first.stderr
    assert "référentiel 2021 loaded: COS 4 blocs / 18 compétences / 73 critères" in first.stdout
    again = run("referentiel", "load", env=fresh_env)
    assert "already loaded, unchanged" in again.stdout
    demo = run("demo", env=fresh_env)
    assert demo.returncode == 0, demo.stderr
    assert "admin@demo.cqp.fr" in demo.stdout
    demo_again = run("demo", env=fresh_env)
    assert "0 created" in demo_again.stdout
    out = tmp_path / "ref.json"
    exported = run("referentiel", "export", "--format", "json", "-o", str(out), env=fresh_env)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["code"] for c in data["certifications"]] == ["RNCP35543", "RNCP35729"]
    verified = run("audit", "verify", env=fresh_env)
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout


def test_malformed_referentiel_is_one_line_and_loads_nothing(
    fresh_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("db", "upgrade", env=fresh_env).returncode == 0
    bad = tmp_path / "2099"
    shutil.copytree(loader.latest_version_dir(), bad)
    td = bad / "blocs" / "TD.toml"
    td.write_text(td.read_text(encoding="utf-8").replace('key = "TD-C18-2"', 'key = "TD-C18-1"'))
    result = run("referentiel", "load", "--path", str(bad), env=fresh_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TD.toml" in lines[0] and "TD-C18-1" in lines[0] and "duplicate key" in lines[0]
    assert "Traceback" not in result.stderr
    engine = create_engine(fresh_env["DATABASE_URL"])
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(ReferentielVersion))
        assert count == 0
        assert connection.scalar(text("SELECT count(*) FROM criteria")) == 0
    engine.dispose()


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "DATA_DIR": str(tmp_path)}
    result = run("db", "upgrade", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vae-portal: error: database unreachable")
    assert "127.0.0.1:1" in lines[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL mysql:… is not supported"),
        ("PORT", "eighty", "PORT='eighty' is not a whole number"),
        ("MAIL_BACKEND", "pigeon", "MAIL_BACKEND='pigeon'"),
    ],
)
def test_bad_setting_is_one_line(tmp_path: Path, name: str, value: str, expected: str) -> None:
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    env[name] = value
    result = run("referentiel", "load", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr


def test_export_from_files_needs_no_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "DATA_DIR": str(tmp_path)}
    result = run("referentiel", "export", "--from-files", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["certifications"][1]["short"] == "GC"


def test_backup_and_restore_commands(fresh_env: dict[str, str], tmp_path: Path) -> None:
    for command in (("db", "upgrade"), ("referentiel", "load"), ("demo",)):
        assert run(*command, env=fresh_env).returncode == 0
    archive = tmp_path / "sauvegarde.tar"
    saved = run("backup", str(archive), env=fresh_env)
    assert saved.returncode == 0, saved.stderr
    assert f"backup written to {archive}" in saved.stdout and "revision 0009" in saved.stdout
    again = run("backup", str(archive), env=fresh_env)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert again.stderr.count("\n") == 1

    target = tmp_path / "target"
    target_env = {"DATABASE_URL": f"sqlite:///{target / 'db.sqlite3'}", "DATA_DIR": str(target)}
    target.mkdir()
    restored = run("restore", str(archive), env=target_env)
    assert restored.returncode == 0, restored.stderr
    assert "audit chain intact" in restored.stdout
    refused = run("restore", str(archive), env=target_env)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert "Traceback" not in refused.stderr
    verified = run("audit", "verify", env=target_env)
    assert verified.returncode == 0, verified.stderr


def test_annexes_sweep_command(fresh_env: dict[str, str], tmp_path: Path) -> None:
    for command in (("db", "upgrade"), ("referentiel", "load")):
        assert run(*command, env=fresh_env).returncode == 0
    orphan = tmp_path / "annexes" / ("c" * 32 + ".pdf")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"%PDF-1.7")
    os.utime(orphan, (0, 0))
    planned = run("annexes", "sweep", "--dry-run", env=fresh_env)
    assert planned.returncode == 0 and "would remove 1 orphan file(s)" in planned.stdout
    assert orphan.exists()
    done = run("annexes", "sweep", env=fresh_env)
    assert "removed 1 orphan file(s)" in done.stdout and not orphan.exists()
