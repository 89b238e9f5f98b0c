"""One quick feed measurement: a single backend, server and worker count (`make bench` runs
the whole matrix through bench/run.py and writes docs/performance.md).

    .venv/bin/python bench/feeds.py [--pieces 100000] [--seconds 5] [--rounds 3]
                                    [--database-url URL] [--server granian|uvicorn] [--workers N]

Prints (a), (s), (b), (c) and (e) from wrk over loopback, (d) in process, and the ratios
(b)/(s) and (c)/(a). Targets: (b)/(s) >= 0.7, (c)/(a) >= 0.7, (d) <= 10 ms.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report
from bench.harness import (
    SERVERS,
    Server,
    cold_renders,
    ensure_wrk,
    warm,
)
from bench.run import Backend, targets
from bench.seed import BENCH_PARTNER, seed_catalog, utc_now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--server", choices=SERVERS, default="granian")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    backend = Backend("db", {args.pieces: args.database_url or f"sqlite:///{work / 'bench.db'}"})
    backend.key = seed_catalog(backend.url, args.pieces, utc_now())
    [(wall, cpu)], body = cold_renders([backend.url], BENCH_PARTNER, runs=20)
    print(f"(d) cold render, 50 items: {wall:.2f} ms wall, {cpu:.2f} ms CPU (target <= 10 ms)")
    static = work / "static.xml"
    static.write_bytes(body)
    try:
        with Server(args.server, args.workers, backend.url, static) as server:
            runs = targets(server.base, backend.key)
            warm(server, runs)
            rounds = []
            for _ in range(args.rounds):
                got = {
                    k: server.load(url, args.seconds, headers) for k, (url, headers) in runs.items()
                }
                rounds.append(got)
                print(  # one line per round
                    ", ".join(f"({k}) {v.rps:,.0f} p99 {v.p99_ms:.1f} ms" for k, v in got.items())
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"(b)/(s) = {report.ratio(rounds, 'b', 's'):.2f}  (target >= 0.7)")
    print(f"(c)/(a) = {report.ratio(rounds, 'c', 'a'):.2f}  (target >= 0.7)")
    print(f"worst p99/p50 = {report.worst_tail(rounds)[0]:.1f}  (target <= 10)")


if __name__ == "__main__":
    main()
