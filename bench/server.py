"""The app under test: ``vae-portal serve`` in a subprocess, with ``VAE_BENCH=1``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from portal.settings import REPO_ROOT


class Server:
    def __init__(self, database_url: str, data_dir: Path, port: int, workers: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = data_dir / f"server-{port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "VAE_BENCH": "1",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            # the load client signs many users in from one address
            "LOGIN_MAX_FAILURES_PER_IP": "1000",
        }
        command = [
            str(Path(sys.executable).parent / "vae-portal"),
            "serve",
            "--workers",
            str(workers),
        ]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603  (our own command)
            command, env=env, cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped; see {self.log_path}")
            try:
                with urllib.request.urlopen(  # noqa: S310  (http://127.0.0.1)
                    self.base + "/bench/ceiling", timeout=2
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer in 60 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn shuts its workers down
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
