"""16 readers and 4 writers against a real server: no lost or doubled write, no 5xx."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from syndication.db import session_scope
from syndication.staff.accounts import create_staff, issue_token
from tests.factories import article_body, license_body
from tests.live.server import LiveServer

SECONDS = float(os.environ.get("SYNDICATION_LOAD_SECONDS", "4"))
READERS, WRITERS = 16, 4


@dataclass
class Ledger:
    """What the server acknowledged, per piece: the revision each write must have produced."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: set[str] = field(default_factory=set)
    bumps: Counter[str] = field(default_factory=Counter)
    withdrawn: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    requests: int = 0
    problems: list[str] = field(default_factory=list)

    def saw(self, answer: httpx.Response) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                self.problems.append(f"{answer.request.method} {answer.request.url}: {answer.text}")


def _write(client: httpx.Client, me: int, ledger: Ledger, stop: threading.Event) -> None:
    rng, n = random.Random(me), 0
    while not stop.is_set():
        action = rng.choice(["create", "create", "patch", "patch", "correct", "withdraw"])
        with ledger.lock:
            pool = sorted(ledger.created - ledger.withdrawn)
        if action == "create" or not pool:
            slug = f"w{me}-{n}"
            n += 1
            answer = client.post("/api/v1/articles", json=article_body(slug))
            ledger.saw(answer)
            if answer.status_code == 201:
                with ledger.lock:
                    ledger.created.add(slug)
            continue
        slug = rng.choice(pool)  # shared by all writers, so If-Match races really happen
        current = client.get(f"/api/v1/articles/{slug}")
        ledger.saw(current)
        if action == "patch":
            answer = client.patch(
                f"/api/v1/articles/{slug}",
                json={"headline": f"Headline {rng.random()}"},
                headers={"If-Match": current.headers["etag"]},
            )
        elif action == "correct":
            answer = client.post(f"/api/v1/articles/{slug}/corrections", json={"text": "Fix."})
        else:
            answer = client.post(f"/api/v1/articles/{slug}/withdraw", json={"reason": "Legal."})
        ledger.saw(answer)
        if answer.status_code in (200, 201):
            with ledger.lock:
                ledger.bumps[slug] += 1
                if action == "withdraw":
                    ledger.withdrawn.add(slug)


def _read(client: httpx.Client, ledger: Ledger, stop: threading.Event) -> None:
    while not stop.is_set():
        answer = client.get("/api/v1/articles", params={"limit": 20})
        ledger.saw(answer)
        if answer.status_code == 200:
            for item in answer.json()["items"]:
                if item["status"] == "withdrawn" and not item["withdrawal_reason"]:
                    ledger.problems.append(f"half-written withdrawal: {item['slug']}")


def test_concurrent_readers_and_writers(database_url: str, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        create_staff(session, "load@example.org", "long enough pw")
        token = issue_token(session, "load@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    ledger, stop = Ledger(), threading.Event()
    with LiveServer(database_url, tmp_path, workers=2) as server:
        clients = [
            httpx.Client(base_url=server.base_url, headers=headers, timeout=30)
            for _ in range(READERS + WRITERS)
        ]
        clients[0].post("/api/v1/licenses", json=license_body())
        threads = [
            threading.Thread(target=_write, args=(clients[i], i, ledger, stop))
            for i in range(WRITERS)
        ] + [
            threading.Thread(target=_read, args=(clients[WRITERS + i], ledger, stop))
            for i in range(READERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        final = {}
        for slug in ledger.created:
            answer = clients[0].get(f"/api/v1/articles/{slug}")
            assert answer.status_code == 200, slug
            final[slug] = answer.json()
        for client in clients:
            client.close()
    assert not ledger.problems, ledger.problems[:5]
    for slug, piece in final.items():
        assert piece["revision"] == 1 + ledger.bumps[slug], (slug, piece["revision"])
        assert (piece["status"] == "withdrawn") == (slug in ledger.withdrawn)
    writes = len(ledger.created) + sum(ledger.bumps.values())
    assert writes > 0
    seen = dict(ledger.statuses)
    print(f"\nload: {ledger.requests} requests, {writes} writes checked, statuses {seen}")
