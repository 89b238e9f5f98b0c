"""A real `syndication serve` in a subprocess on a free loopback port, for load and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, database_url: str, workdir: Path, workers: int = 1) -> None:
        self.database_url, self.workdir, self.workers = database_url, workdir, workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> LiveServer:
        script = Path(sys.executable).parent / "syndication"
        env = {
            **os.environ,
            "SYNDICATION_DATABASE_URL": self.database_url,
            "SYNDICATION_BASE_URL": self.base_url,
            "SYNDICATION_SECRET_KEY": "live-test-secret",
        }
        log = open(self.workdir / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(script), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill reaches every worker
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # Ours first: with the suite in two processes, the port it failed to bind may be
            # another test's server, answering for a different database.
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start; see {self.workdir}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
