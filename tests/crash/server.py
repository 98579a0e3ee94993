"""The real server for the crash test: prepared once with the CLI, then started, killed with
SIGKILL and started again on the same database and DATA_DIR (helpers of tests/browser/server)."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser.server import (
    REPO_ROOT,
    STOP_TIMEOUT_S,
    _cli,
    _env,
    _free_port,
    _wait_until_healthy,
)


@dataclass
class Server:
    database_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    base_url: str = ""
    starts: int = field(default=0)

    def prepare(self) -> None:
        env = _env(self.database_url, self.data_dir)
        for args in (["db", "upgrade"], ["referentiel", "load"], ["demo"]):
            _cli(args, env)

    def start(self) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.starts += 1
        with self.log_path.open("a") as log:
            log.write(f"\n=== start {self.starts} ===\n")
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "serve", "--host", "127.0.0.1"]
                + ["--port", str(port)],
                cwd=REPO_ROOT,
                env=_env(self.database_url, self.data_dir, self.base_url),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_until_healthy(self.process, self.base_url + "/healthz", self.log_path)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no rollback runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        assert self.process.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def cli(self, *args: str) -> None:
        _cli(list(args), _env(self.database_url, self.data_dir))
