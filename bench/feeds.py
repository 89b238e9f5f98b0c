"""Feed throughput against the framework's own ceiling, on one server in one run.

    .venv/bin/python bench/feeds.py [--pieces 100000] [--seconds 5] [--database-url URL]

Seeds a database (bulk insert, SQLAlchemy core), then serves ONE granian worker with four
endpoints and drives each with wrk over loopback:
  (a) /bench/hello   Litestar plain-text hello world
  (s) /bench/static  the same bytes as our feed, from memory, no auth, no database
  (b) /feeds/atom.xml our cached feed, key checked
  (c) /feeds/atom.xml with If-None-Match: our 304
and measures in process (d): a cold render of a 50-item feed with 5 KB bodies.
Prints (b)/(s) and (c)/(a). Targets: (b)/(s) >= 0.7, (c)/(a) >= 0.7, (d) <= 10 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litestar import Litestar, MediaType, get  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from syndication import migrate  # noqa: E402
from syndication.app import create_app  # noqa: E402
from syndication.articles.models import Article  # noqa: E402
from syndication.db import make_engine, session_scope  # noqa: E402
from syndication.feeds.query import FeedQuery  # noqa: E402
from syndication.feeds.serving import fill  # noqa: E402
from syndication.licensing.models import License  # noqa: E402
from syndication.partners.models import Partner, PartnerLicense  # noqa: E402
from syndication.partners.service import issue_key  # noqa: E402
from syndication.settings import Settings, load_settings  # noqa: E402

STATIC_FILE = "SYNDICATION_BENCH_STATIC"
WORDS = [
    "council",
    "budget",
    "vote",
    "members",
    "city",
    "health",
    "school",
    "road",
    "water",
    "court",
    "report",
]


def body_5kb(rng: random.Random) -> str:
    paragraphs, size = [], 0
    while size < 5_000:
        text = " ".join(rng.choice(WORDS) for _ in range(40))
        paragraphs.append(f"<p>{text}.</p>")
        size += len(paragraphs[-1])
    return "".join(paragraphs)


def seed(settings: Settings, pieces: int) -> str:
    """Bulk-insert `pieces` articles under one license; answer a partner key."""
    engine = make_engine(settings)
    now = datetime.now(UTC)
    rng = random.Random(7)
    with session_scope(engine) as session:
        session.add(License(code="free", name="Free", url="https://news.example.org/lic",
                            credit_line="Content by {{ holder }}.",
                            contact_email="l@example.org", requires_pixel=True))  # fmt: skip
        session.add(Partner(slug="gazette", name="Gazette", audience=100_000))
        session.flush()
        session.add(PartnerLicense(partner_id=1, license="free"))
    bodies = [body_5kb(rng) for _ in range(200)]
    sections = ["politics", "sport", "health", "city", "world"]
    batch = 5_000
    for start in range(0, pieces, batch):
        rows = [
            {"slug": f"piece-{n}", "headline": f"Headline {n}", "summary": "Summary.",
             "body_html": bodies[n % len(bodies)], "byline": "Ana Example",
             "section": sections[n % len(sections)], "tags": ["a", "b"],
             "canonical_url": f"https://news.example.org/{n}", "copyright_holder": "Example",
             "published_at": now - timedelta(minutes=n), "license": "free",
             "source_credits": [{"name": "Wire", "url": "https://wire.example/"}],
             "related": [{"title": "Rel", "url": "https://news.example.org/rel"}],
             "images": [{"url": "https://news.example.org/i.jpg", "caption": "C",
                         "credit": "P", "syndicate": True}],
             "corrections": [], "created_at": now, "updated_at": now}
            for n in range(start, min(start + batch, pieces))
        ]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(Article), rows)
    with session_scope(engine) as session:
        key = issue_key(session, "gazette").key
    engine.dispose()
    return key


def cold_render_ms(settings: Settings, runs: int) -> tuple[float, float, bytes]:
    """Median wall and CPU milliseconds of `fill` (query, decide, render, gzip) from scratch."""
    engine = make_engine(settings)
    state = SimpleNamespace(engine=engine, settings=settings, clock=lambda: datetime.now(UTC))
    with session_scope(engine, write=False) as session:
        partner = session.get(Partner, 1)
    fill(state, partner, "atom", FeedQuery())  # imports, compiled templates, SQLite page cache
    wall, cpu, body = [], [], b""
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        entry = fill(state, partner, "atom", FeedQuery())
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        body = entry.body
    engine.dispose()
    return statistics.median(wall), statistics.median(cpu), body


def bench_app() -> Litestar:
    """The server under test: our app, plus the two baselines beside it."""
    static = Path(os.environ[STATIC_FILE]).read_bytes()

    @get("/bench/hello", media_type=MediaType.TEXT, sync_to_thread=False)
    def hello() -> str:
        return "Hello, world!"

    @get("/bench/static", media_type="application/atom+xml; charset=utf-8", sync_to_thread=False)
    def same_bytes() -> bytes:
        return static

    app = create_app(load_settings())
    app.register(hello)
    app.register(same_bytes)
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, seconds: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", "--timeout", "2s", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors during the run:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(out)
    return float(match.group(1))


def wait_ready(url: str, deadline: float) -> None:
    import httpx

    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (apt-get install -y wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    settings = Settings(database_url=url, base_url="http://127.0.0.1", secret_key="bench")
    migrate.upgrade(settings)
    started = time.perf_counter()
    key = seed(settings, args.pieces)
    print(f"seeded {args.pieces:,} pieces in {time.perf_counter() - started:.1f} s")
    cold, cold_cpu, body = cold_render_ms(settings, runs=20)
    print(f"(d) cold render, 50 items, 5 KB bodies: {cold:.2f} ms wall, {cold_cpu:.2f} ms CPU")
    (workdir / "static.xml").write_bytes(body)
    port = free_port()
    env = {**os.environ, "SYNDICATION_DATABASE_URL": url, "SYNDICATION_SECRET_KEY": "bench",
           "SYNDICATION_BASE_URL": "http://127.0.0.1", STATIC_FILE: str(workdir / "static.xml"),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--workers", "1",
         "--host", "127.0.0.1", "--port", str(port), "--no-log", "bench.feeds:bench_app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/bench/hello", time.monotonic() + 30)
        import httpx

        auth = {"Authorization": f"Bearer {key}"}
        warm = httpx.get(f"{base}/feeds/atom.xml", headers=auth, timeout=10)
        assert warm.content == body, "the server's feed differs from the in-process render"
        etag = warm.headers["etag"]
        runs = {
            "a": (f"{base}/bench/hello", {}),
            "s": (f"{base}/bench/static", {}),
            "b": (f"{base}/feeds/atom.xml", auth),
            "c": (f"{base}/feeds/atom.xml", {**auth, "If-None-Match": etag}),
        }
        # Rounds of back-to-back runs; each ratio is taken within a round (the host may be
        # busy with other work), and the median over rounds is reported.
        rounds = []
        for round_ in range(args.rounds):
            got = {name: wrk(t, args.seconds, h) for name, (t, h) in runs.items()}
            rounds.append(got)
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"({k}) {v:,.0f}" for k, v in got.items())
                + f"; (b)/(s) {got['b'] / got['s']:.2f}, (c)/(a) {got['c'] / got['a']:.2f}"
            )
        a, s, b, c = (statistics.median(r[k] for r in rounds) for k in "asbc")
        bs = statistics.median(r["b"] / r["s"] for r in rounds)
        ca = statistics.median(r["c"] / r["a"] for r in rounds)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"feed {len(body):,} bytes; one granian worker; wrk -t1 -c16 -d{args.seconds}s; median"
          f" of {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"(a) hello world        {a:10,.0f} req/s")
    print(f"(s) same bytes, static {s:10,.0f} req/s")
    print(f"(b) cached feed        {b:10,.0f} req/s")
    print(f"(c) 304                {c:10,.0f} req/s")
    print(f"(b)/(s) = {bs:.2f}  (target >= 0.7)")
    print(f"(c)/(a) = {ca:.2f}  (target >= 0.7)")
    print(f"(d)     = {cold:.2f} ms wall, {cold_cpu:.2f} ms CPU  (target <= 10 ms)")


if __name__ == "__main__":
    main()
