"""`make bench`: every figure of docs/performance.md, measured in one run on this machine.

    .venv/bin/python bench/run.py [--seconds 3] [--rounds 5] [--cold-rounds 24]
                                  [--postgres URL] [--out FILE]

Per backend (SQLite, and PostgreSQL when reachable): a database per catalog size seeded with
bulk inserts (10 licenses, 1,000 partners; 1k, 10k and 100k pieces) and cold renders timed at
the three sizes in turn, then granian with 1 and 2 workers on the 100k one, driven by wrk over
loopback for
  (a) Litestar plain-text hello world      (s) our feed's bytes from memory, no auth, no database
  (b) our cached partner feed              (c) our 304
  (e) a bundle (.zip, rendered per request; usage and ledger written after the answer)
and (d) the cold render of a 50-item feed, in process. Then granian against uvicorn
(uvloop + httptools) on (a), (b), (c). Each server first gets a short unrecorded run of every
target (harness.warm), and every run starts once the server is idle (Server.idle). Ratios are
taken within a round, medians reported.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report
from bench.harness import SERVERS, Run, Server, cold_renders_apart, ensure_wrk, warm
from bench.seed import BENCH_PARTNER, seed_catalog, utc_now

SIZES = (1_000, 10_000, 100_000)
COLD_ROUNDS = 24  # cold renders of each size: 4 of each of the sizes' 6 orders
BUNDLE = "/bundles/piece-0.zip"  # the newest piece; partner-0 holds its license
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Backend:
    name: str
    urls: dict[int, str]  # catalog size -> its database
    key: str = ""  # partner-0's, in the largest database
    growth: dict[int, tuple[float, float]] = field(default_factory=dict)  # size -> wall, cpu ms
    feed_bytes: int = 0
    loads: dict[int, list[dict[str, Run]]] = field(default_factory=dict)  # workers -> rounds

    @property
    def url(self) -> str:
        """The largest catalog's database: the load runs use it."""
        return self.urls[max(self.urls)]


def database_name(size: int) -> str:
    return f"syndication_bench_{size // 1000}k"


def postgres_urls(admin_url: str) -> dict[int, str] | None:
    """A fresh database per catalog size on the server at `admin_url`, or None."""
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (*map(database_name, SIZES), "syndication_bench"):  # and older runs' one
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for size in SIZES:
                conn.execute(text(f'CREATE DATABASE "{database_name(size)}"'))
        admin.dispose()
    except Exception as error:
        print(f"PostgreSQL skipped: {error.__class__.__name__}: {error}".splitlines()[0])
        with contextlib.suppress(Exception):  # what it created before failing
            drop_postgres(admin_url)
        return None
    url = make_url(admin_url)
    return {
        size: url.set(database=database_name(size)).render_as_string(hide_password=False)
        for size in SIZES
    }


def drop_postgres(admin_url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for size in SIZES:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database_name(size)}" WITH (FORCE)'))
    admin.dispose()


def prepare(backend: Backend, static: Path, cold_rounds: int) -> None:
    """Seed a database per catalog size, then time cold renders of the sizes in turn
    (harness.cold_renders): one database grown 1k -> 10k -> 100k and timed after each step
    compared renders minutes apart, and the host's speed changes from minute to minute."""
    now = utc_now()
    for size, url in backend.urls.items():
        started = time.perf_counter()
        key = seed_catalog(url, size, now)
        if url == backend.url:  # the load runs' database
            backend.key = key
        print(f"{backend.name}: {size:>7,} pieces seeded in {time.perf_counter() - started:.0f} s")
    urls = [backend.urls[s] for s in SIZES]
    found, body = cold_renders_apart(urls, BENCH_PARTNER, runs=cold_rounds)
    for size, (wall, cpu) in zip(SIZES, found, strict=True):
        backend.growth[size] = (wall, cpu)
        print(f"{backend.name}: {size:>7,} pieces, (d) cold render {wall:.2f} ms wall, "
              f"{cpu:.2f} ms CPU")  # fmt: skip
    static.write_bytes(body)
    backend.feed_bytes = len(body)


def targets(base: str, key: str) -> dict[str, tuple[str, dict[str, str]]]:
    auth = {"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"}
    warm = httpx.get(f"{base}/feeds/atom.xml", headers=auth, timeout=30)
    bundle = httpx.get(f"{base}{BUNDLE}", headers=auth, timeout=30)
    assert warm.status_code == 200 and bundle.status_code == 200, (warm.text, bundle.text)
    return {
        "a": (f"{base}/bench/hello", {}),
        "s": (f"{base}/bench/static", {}),
        "b": (f"{base}/feeds/atom.xml", auth),
        "c": (f"{base}/feeds/atom.xml", {**auth, "If-None-Match": warm.headers["etag"]}),
        "e": (f"{base}{BUNDLE}", auth),
    }


def load(backend: Backend, static: Path, workers: int, args: argparse.Namespace) -> None:
    with Server("granian", workers, backend.url, static) as server:
        runs = targets(server.base, backend.key)
        warm(server, runs)
        rounds = backend.loads.setdefault(workers, [])
        for _ in range(args.rounds):
            got = {
                name: server.load(url, args.seconds, headers)
                for name, (url, headers) in runs.items()
            }
            rounds.append(got)
            print(f"{backend.name}, {workers} worker(s): "
                  + ", ".join(f"({k}) {v.rps:,.0f}" for k, v in got.items())
                  + f"; (b)/(s) {got['b'].rps / got['s'].rps:.2f}"
                  f", (c)/(a) {got['c'].rps / got['a'].rps:.2f}")  # fmt: skip


def compare_servers(backend: Backend, static: Path, args: argparse.Namespace) -> dict:
    """Each server in turn, once per round, so both see the same share of the host's load."""
    found: dict[str, list[dict[str, Run]]] = {name: [] for name in SERVERS}
    for _ in range(args.rounds):
        for name in SERVERS:
            with Server(name, 1, backend.url, static) as server:
                runs = {k: v for k, v in targets(server.base, backend.key).items() if k in "abc"}
                warm(server, runs)
                got = {
                    k: server.load(url, args.seconds, headers) for k, (url, headers) in runs.items()
                }
                found[name].append(got)
                print(f"{name}: " + ", ".join(f"({k}) {v.rps:,.0f}" for k, v in got.items()))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold-rounds", type=int, default=COLD_ROUNDS)
    parser.add_argument("--postgres", default=os.environ.get("SYNDICATION_BENCH_POSTGRES_URL",
                                                             DEFAULT_POSTGRES))  # fmt: skip
    parser.add_argument("--out", default="docs/performance.md")
    args = parser.parse_args()
    ensure_wrk()
    # Stopped from outside: still stop the servers and drop the databases (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    load_before = os.getloadavg()
    reference = report.reference_seconds()
    work = Path(tempfile.mkdtemp(prefix="syndication-bench-"))
    backends = [Backend("SQLite", {s: f"sqlite:///{work / f'bench-{s}.db'}" for s in SIZES})]
    pg = postgres_urls(args.postgres)
    if pg:
        backends.append(Backend("PostgreSQL", pg))
    servers: dict = {}
    try:
        for backend in backends:
            static = work / f"static-{backend.name}.xml"
            prepare(backend, static, args.cold_rounds)
            for workers in (1, 2):
                load(backend, static, workers, args)
            if backend is backends[0]:
                servers = compare_servers(backend, static, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if pg:
            drop_postgres(args.postgres)
    elapsed = time.monotonic() - started
    text_ = report.markdown(
        backends, servers, args, load_before, os.getloadavg(), elapsed, reference
    )
    Path(args.out).write_text(text_)
    print(text_)
    print(f"written to {args.out} in {elapsed / 60:.1f} min")


if __name__ == "__main__":
    main()
