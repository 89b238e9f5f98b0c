"""Two workers on one port share nothing but the database: a write through one is seen by the
very next feed pull from any other, and a revoked key is refused by every worker at once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from syndication.db import session_scope
from syndication.staff.accounts import create_staff, issue_token
from tests.factories import article_body, create, license_body, partner_body, partner_key
from tests.live.server import LiveServer

ATOM = "/feeds/atom.xml"
PULLS = 60  # each on a fresh connection, so the kernel and granian spread them over workers


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _workers(server: LiveServer) -> list[int]:
    assert server.process is not None
    main = server.process.pid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == main:  # the parent's pid
                found.append(int(entry.name))
    return found


def _pull(server: LiveServer, key: str) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=30) as fresh:  # a new connection
        return fresh.get(ATOM, headers={"Authorization": f"Bearer {key}"})


def test_two_workers_agree_on_writes_and_revocations(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        create_staff(session, "desk@example.org", "long enough pw")
        token = issue_token(session, "desk@example.org")
    staff = {"Authorization": f"Bearer {token}"}
    with LiveServer(database_url, tmp_path, workers=2) as server:
        api = httpx.Client(base_url=server.base_url, timeout=30)
        create(api, staff, "/api/v1/licenses", license_body())  # type: ignore[arg-type]
        create(api, staff, "/api/v1/partners", partner_body())  # type: ignore[arg-type]
        key = partner_key(api, staff, "gazette")  # type: ignore[arg-type]
        workers = _workers(server)
        assert len(workers) == 2, workers
        before = {pid: _cpu_ticks(pid) for pid in workers}
        for n in range(PULLS // 2):
            # Every worker has the feed cached by now; each write must still show at once.
            slug = f"piece-{n}"
            create(api, staff, "/api/v1/articles", article_body(slug, headline=f"Headline {n}"))  # type: ignore[arg-type]
            for _ in range(2):
                pulled = _pull(server, key)
                assert pulled.status_code == 200
                assert f"Headline {n}<".encode() in pulled.content, (n, os.getpid())
        used = {pid: _cpu_ticks(pid) - before[pid] for pid in workers}
        assert all(ticks > 0 for ticks in used.values()), f"one worker answered nothing: {used}"
        prefix = "_".join(key.split("_")[:2])
        assert api.delete(f"/api/v1/partners/gazette/keys/{prefix}", headers=staff).is_success
        refused = [_pull(server, key).status_code for _ in range(20)]
        # 401, until the failed-authentication throttle answers 429 to the repeated bad key.
        assert refused[0] == 401 and set(refused) <= {401, 429}, refused
        print(f"\nCPU ticks per worker over {PULLS} pulls: {sorted(used.values())}")
        api.close()


def test_a_worker_that_dies_is_started_again(database_url: str, tmp_path: Path) -> None:
    """One crashed worker (SIGKILL here) costs its own requests, not the server: granian
    starts another, and the port keeps answering."""
    with LiveServer(database_url, tmp_path, workers=2) as server:
        first = _workers(server)
        assert len(first) == 2, first
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _workers(server)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and first[0] not in now, (first, now)
        assert server.process is not None and server.process.poll() is None
        for _ in range(10):  # on fresh connections, so both workers answer
            with httpx.Client(base_url=server.base_url, timeout=30) as fresh:
                assert fresh.get("/healthz").status_code == 200
