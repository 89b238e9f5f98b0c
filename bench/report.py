"""docs/performance.md from one `make bench` run: tables, ratios and whether targets are met."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import WARM_SECONDS, WRK_THREADS, Run

NAMES = {
    "a": "(a) Litestar hello world",
    "s": "(s) our feed's bytes, static",
    "b": "(b) cached partner feed",
    "c": "(c) 304",
    "e": "(e) bundle (.zip)",
}


def _median(rounds: list[dict[str, Run]], key: str) -> Run:
    runs = [r[key] for r in rounds]
    return Run(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
    )


def ratio(rounds: list[dict[str, Run]], top: str, bottom: str) -> float:
    return statistics.median(r[top].rps / r[bottom].rps for r in rounds)


def worst_tail(rounds: list[dict[str, Run]]) -> tuple[float, str]:
    return max((run.tail, key) for r in rounds for key, run in r.items())


def _mark(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _load_table(backends: list[Any]) -> list[str]:
    lines = ["| database | workers | " + " | ".join(NAMES.values()) + " |",
             "| --- | --- |" + " --- |" * len(NAMES)]  # fmt: skip
    for backend in backends:
        for workers, rounds in sorted(backend.loads.items()):
            cells = []
            for key in NAMES:
                run = _median(rounds, key)
                cells.append(
                    f"{run.rps:,.0f} req/s<br>p50 {run.p50_ms:.2f} / p99 {run.p99_ms:.2f} ms"
                )
            lines.append(f"| {backend.name} | {workers} | " + " | ".join(cells) + " |")
    return lines


def _ratio_table(backends: list[Any]) -> list[str]:
    lines = [
        "| database | workers | (b)/(s) ≥ 0.7 | (c)/(a) ≥ 0.7 | (e)/(a) | worst p99/p50 ≤ 10 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for backend in backends:
        for workers, rounds in sorted(backend.loads.items()):
            bs, ca, ea = ratio(rounds, "b", "s"), ratio(rounds, "c", "a"), ratio(rounds, "e", "a")
            tail, which = worst_tail(rounds)
            lines.append(
                f"| {backend.name} | {workers} | {bs:.2f} {_mark(bs >= 0.7)} "
                f"| {ca:.2f} {_mark(ca >= 0.7)} | {ea:.3f} "
                f"| {tail:.1f} ({which}) {_mark(tail <= 10)} |"
            )
    return lines


def _growth_table(backends: list[Any]) -> list[str]:
    sizes = sorted(next(iter(backends)).growth)
    lines = ["| database | " + " | ".join(f"{s:,} pieces" for s in sizes)
             + f" | {sizes[-1]:,} / {sizes[0]:,} ≤ 1.2 | (d) ≤ 10 ms |",
             "| --- |" + " --- |" * (len(sizes) + 2)]  # fmt: skip
    for backend in backends:
        cells = [f"{backend.growth[s][0]:.2f} ms ({backend.growth[s][1]:.2f} CPU)" for s in sizes]
        grew = backend.growth[sizes[-1]][0] / backend.growth[sizes[0]][0]
        d = backend.growth[sizes[-1]][0]
        verdicts = f"{grew:.2f} {_mark(grew <= 1.2)} | {d:.2f} ms {_mark(d <= 10)}"
        lines.append(f"| {backend.name} | " + " | ".join(cells) + f" | {verdicts} |")
    return lines


def _server_table(servers: dict[str, list[dict[str, Run]]]) -> list[str]:
    lines = ["| server | (a) hello | (b) cached feed | (c) 304 | worst p99/p50 |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, rounds in servers.items():
        cells = [f"{_median(rounds, k).rps:,.0f} req/s" for k in "abc"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {worst_tail(rounds)[0]:.1f} |")
    return lines


def verdict(servers: dict[str, list[dict[str, Run]]]) -> str:
    """Which server `serve` should default to, from (b) + (c) medians of this run."""
    score = {n: _median(r, "b").rps + _median(r, "c").rps for n, r in servers.items()}
    best = max(score, key=score.__getitem__)
    margin = score[best] / min(score.values()) - 1
    text = f"Fastest on (b) + (c) in this run: **{best}**, by {margin:.0%}. "
    if best == "granian":
        return text + "`syndication serve` runs granian by default; `--server uvicorn` the other."
    if margin < 0.10:
        return text + (
            "A lead under 10% is within one run's noise on a shared host: `serve` keeps granian "
            "(in the base install; uvicorn, uvloop and httptools are dev extras)."
        )
    return text + "**This run favours uvicorn by 10% or more: reconsider `serve`'s default.**"


def cpu_model() -> str:
    info = Path("/proc/cpuinfo")
    for line in info.read_text().splitlines() if info.exists() else []:
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


def reference_seconds() -> float:
    """Best of three runs of a fixed pure-Python loop: how fast this host runs CPython, so
    that absolute times such as (d) can be compared between hosts (ratios need no such help)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(i * i for i in range(10_000_000))
        best = min(best, time.perf_counter() - started)
    return best


def markdown(backends: list[Any], servers: dict, args: Any, before: tuple, after: tuple,
             elapsed: float, reference: float) -> str:  # fmt: skip
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    first = backends[0]
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`bench/run.py`); every figure below comes from one run, on one",
        "machine, and every ratio compares two figures from the same server, workers and round.",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {elapsed / 60:.1f} min; {cpu} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, {os.uname().sysname}.",
        f"- CPU: {cpu_model()}. Speed reference: `sum(i * i for i in range(10**7))` takes "
        f"{reference:.2f} s here (best of 3); absolute times such as (d) scale with it.",
        f"- Host load (1-min average) before / after: {before[0]:.2f} / {after[0]:.2f}. Other",
        "  work on the host lowers every figure; the ratios are the comparable part.",
        f"- Catalog: {max(first.growth):,} pieces (5 KB bodies), 1,000 partners, 10 licenses,",
        "  seeded with bulk inserts; the measured partner holds 2 of the 10 licenses (a fifth",
        f"  of the pieces). The feed is the first Atom page, 50 items, {first.feed_bytes:,} bytes.",
        f"- Load: `wrk -t{WRK_THREADS} -c16 -d{args.seconds:g}s --latency` over loopback, "
        f"{args.rounds} rounds; medians. One wrk thread: it keeps up with every target here,",
        "  and a second only takes CPU from the server on these 2 cores. Before round 1 each",
        f"  server gets {WARM_SECONDS:g} s of every target, unrecorded, so that each of its "
        "workers is warm.",
        "  Each run starts once the server and PostgreSQL are idle (at most a tenth of a core",
        "  in two 0.1 s windows in a row), not while they still finish the previous run's",
        "  requests in flight and their writes.",
        "  (b), (c) and (e) send the key in the `Authorization` header.",
        "",
        "## Throughput and latency (granian)",
        "",
        *_load_table(backends),
        "",
        "## Ratios against the framework's ceiling",
        "",
        *_ratio_table(backends),
        "",
        "## A cold feed render as the catalog grows (in process)",
        "",
        "Query, entitlement check, fragments, the Atom writer and gzip, for the first page;",
        f"a database per size, all {len(first.growth)} in one fresh process that freezes its "
        "startup heap as a worker does,",
        f"taking turns (one render of each per round, {args.cold_rounds} rounds, each order of the "
        "sizes alike);",
        "medians, wall time (CPU time in brackets). Taking turns puts a change in the host's",
        "speed on every size alike. The ledger's hashes of the fragments are taken after the",
        "answer and are not timed. The last size is (d).",
        "",
        *_growth_table(backends),
    ]
    if servers:
        lines += [
            "",
            "## Server choice (SQLite, 1 worker)",
            "",
            "granian against uvicorn with uvloop and httptools, alternating each round.",
            "",
            *_server_table(servers),
            "",
            verdict(servers),
        ]
    return "\n".join(lines) + "\n"
