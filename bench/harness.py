"""What every benchmark shares: the server under test (our app plus two baselines beside it),
starting it on granian or uvicorn with N workers, driving it with wrk, and timing cold renders.

Ratios are only ever taken between figures from the same server, workers and round.
"""

from __future__ import annotations

import gc
import itertools
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
from litestar import Litestar, MediaType, get

from bench.seed import bench_settings
from syndication.app import app_from_env
from syndication.db import make_engine, session_scope
from syndication.feeds.query import FeedQuery
from syndication.feeds.serving import fill
from syndication.partners.models import Partner

ROOT = Path(__file__).resolve().parent.parent
STATIC_FILE = "SYNDICATION_BENCH_STATIC"
SERVERS = ("granian", "uvicorn")


def bench_app() -> Litestar:
    """Our app, plus (a) a plain-text hello world and (s) our feed's bytes from memory."""
    static = Path(os.environ[STATIC_FILE]).read_bytes()

    @get("/bench/hello", media_type=MediaType.TEXT, sync_to_thread=False)
    def hello() -> str:
        return "Hello, world!"

    @get("/bench/static", media_type="application/atom+xml; charset=utf-8", sync_to_thread=False)
    def same_bytes() -> bytes:
        return static

    app = app_from_env()  # built as `syndication serve` builds each worker's app
    app.register(hello)
    app.register(same_bytes)
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(server: str, workers: int, port: int) -> list[str]:
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "--factory", "bench.harness:bench_app",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                "--log-level", "warning"]  # fmt: skip
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port), "--no-log",
            "bench.harness:bench_app"]  # fmt: skip


IDLE_WINDOW, IDLE_WINDOWS, IDLE_TIMEOUT = 0.1, 2, 5.0
SETTLE_TIMEOUT = 60.0  # after seeding, before the cold renders
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(group: int | None) -> dict[int, int]:
    """CPU time (user + system, in clock ticks) by pid of every live PostgreSQL process (the
    backends finishing the requests' writes) and, unless `group` is None, of every process
    in that process group (the server and its workers: it starts in a session of its own)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except OSError:  # gone meanwhile
            continue
        fields = rest.split()  # from field 3 (state) on: pgrp is 5, utime and stime 14 and 15
        if (group is not None and int(fields[2]) == group) or name.endswith("(postgres"):
            found[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
    return found


def wait_until_idle(group: int | None, what: str, timeout: float = IDLE_TIMEOUT) -> None:
    """Wait until PostgreSQL's processes and those of process group `group` (None: none)
    together use at most a tenth of a core in each of two 0.1 s windows in a row; after
    `timeout` seconds, say so and go on."""
    deadline = time.monotonic() + timeout
    before, quiet = _cpu_ticks(group), 0
    while quiet < IDLE_WINDOWS:
        if time.monotonic() > deadline:
            print(f"bench: {what} was still busy after {timeout:g} s; running anyway")
            return
        time.sleep(IDLE_WINDOW)
        now = _cpu_ticks(group)
        used = sum(ticks - before.get(pid, 0) for pid, ticks in now.items())
        quiet = quiet + 1 if used <= IDLE_WINDOW * CLOCK_TICKS / 10 else 0
        before = now


class Server:
    """`with Server(...) as server:` a bench app on a free loopback port, at `server.base`;
    `server.load(...)` runs wrk against it once it is idle."""

    def __init__(self, server: str, workers: int, database_url: str, static: Path) -> None:
        self.port = free_port()
        self.command = server_command(server, workers, self.port)
        self.env = {**os.environ, "SYNDICATION_DATABASE_URL": database_url,
                    "SYNDICATION_SECRET_KEY": "bench", "SYNDICATION_BASE_URL": "http://127.0.0.1",
                    STATIC_FILE: str(static), "PYTHONPATH": str(ROOT)}  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/bench/hello", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit(f"the server did not start: {' '.join(self.command)}")

    def load(self, url: str, seconds: float, headers: dict[str, str]) -> Run:
        """One wrk run, started once the server is idle (`idle`)."""
        self.idle()
        return wrk(url, seconds, headers)

    def idle(self, timeout: float = IDLE_TIMEOUT) -> None:
        """Wait until the server's processes and PostgreSQL's are idle (`wait_until_idle`).

        When wrk stops, the server still has the requests that were in flight and what they
        do after answering (usage counts, the ledger): 16 bundles are ~130 ms of work for
        one worker. A run started at once met that work in its first requests: hello world
        after the bundle run had p99 at 6-9x p50 on PostgreSQL, 2.5x after a pause (3
        rounds each)."""
        assert self.process is not None
        wait_until_idle(self.process.pid, "the server", timeout)

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=15)


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(out: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not match:
        raise SystemExit(f"no {percentile}% latency in wrk's output:\n{out}")
    return float(match.group(1)) * _UNITS[match.group(2)]


WRK_THREADS = 1  # one wrk thread kept up with every target here (hello world, 2 workers: the
# same req/s as two threads), and a second one only takes a core's share from the server: on 2
# cores, two workers and two wrk threads time-shared the CPUs and set p99 at ~10x p50 even
# for hello world.
WARM_SECONDS = 1.0


def wrk(url: str, seconds: float, headers: dict[str, str], connections: int = 16) -> Run:
    """One wrk run over loopback; any error or non-2xx/3xx answer ends the benchmark."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s",
               "--latency"]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    if "Non-2xx" in out.stdout or "Socket errors" in out.stdout:
        raise SystemExit(f"errors during the run of {url}:\n{out.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if not match:
        raise SystemExit(out.stdout + out.stderr)
    return Run(float(match.group(1)), _latency(out.stdout, "50"), _latency(out.stdout, "99"))


def warm(server: Server, runs: dict[str, tuple[str, dict[str, str]]]) -> None:
    """A short unrecorded run of each target first, so that every worker has its caches,
    connections and compiled templates before the first recorded round: with two workers a
    request reaches one of them only, and round 1's (b) used to include the second worker's
    first render of the feed (that cost is (d), measured on its own)."""
    for url, headers in runs.values():
        server.load(url, WARM_SECONDS, headers)


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required: sudo apt-get install -y wrk (make bench does it)")


def cold_renders(urls: list[str], slug: str, runs: int) -> tuple[list[tuple[float, float]], bytes]:
    """For each database in `urls`: the median wall and CPU milliseconds of `fill` (query,
    decide, render, gzip) from scratch, for the partner `slug`'s first Atom page; and the bytes
    the last one renders. The databases take turns, one render each per round, in each of
    their orders in turn, so that a change in the host's speed while they are timed falls on
    all of them alike: timed one after another, the sizes' ratio moved by a third from one
    run to the next on this host (1.08 and 1.35, the same code). The ledger's hashes of the
    fragments are taken after the answer (`record_deliveries`), so they are not timed here."""
    states = []
    for url in urls:
        settings = bench_settings(url)
        engine = make_engine(settings)
        state = SimpleNamespace(engine=engine, settings=settings, clock=lambda: datetime.now(UTC))
        with session_scope(engine, write=False) as session:
            partner = session.query(Partner).filter_by(slug=slug).one()
        fill(state, partner, "atom", FeedQuery())  # imports, compiled templates, page cache
        states.append((state, partner))
    gc.collect()
    gc.freeze()  # as each worker does once its app is built (app.app_from_env)
    wall: list[list[float]] = [[] for _ in urls]
    cpu: list[list[float]] = [[] for _ in urls]
    body = b""
    orders = list(itertools.permutations(range(len(states))))
    for round_ in range(runs):
        for n in orders[round_ % len(orders)]:  # each database after each other one alike
            state, partner = states[n]
            started, started_cpu = time.perf_counter(), time.process_time()
            entry, _ = fill(state, partner, "atom", FeedQuery())
            wall[n].append((time.perf_counter() - started) * 1000)
            cpu[n].append((time.process_time() - started_cpu) * 1000)
            if n == len(states) - 1:
                body = entry.body
    for state, _ in states:
        state.engine.dispose()
    medians = [(statistics.median(w), statistics.median(c)) for w, c in zip(wall, cpu, strict=True)]
    return medians, body


def cold_renders_apart(
    urls: list[str], slug: str, runs: int
) -> tuple[list[tuple[float, float]], bytes]:
    """`cold_renders` in a fresh process, as a worker would run it: not in a process whose heap
    still holds a 100,000-piece seeding (its garbage collections slowed renders by a third)."""
    # Not while PostgreSQL still works off the seeding (autovacuum, the background writer).
    wait_until_idle(None, "PostgreSQL", SETTLE_TIMEOUT)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "feed.xml"
        command = [sys.executable, "-m", "bench.harness", "cold", slug, str(runs), str(out)]
        done = subprocess.run(
            [*command, *urls], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        lines = (line.split() for line in done.stdout.splitlines())
        return [(float(wall), float(cpu)) for wall, cpu in lines], out.read_bytes()


if __name__ == "__main__" and sys.argv[1:2] == ["cold"]:
    partner_slug, count, target, *databases = sys.argv[2:]
    found, feed = cold_renders(databases, partner_slug, int(count))
    Path(target).write_bytes(feed)
    for wall_ms, cpu_ms in found:
        print(wall_ms, cpu_ms)
