"""Push notices: registered endpoints, the outbox written with the staff action, a worker
that signs, retries with backoff, logs each attempt, and loses nothing across a restart."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from litestar.testing import TestClient

from syndication.accountability import outbox
from syndication.accountability.worker import LEASE, MAX_ATTEMPTS, claim_due, run_due_notices
from syndication.app import create_app
from tests.conftest import BASE_URL

from .conftest import Server, World


def _correct(world: World, slug: str = "council-budget", text: str = "Fixed the vote count."):  # type: ignore[no-untyped-def]
    response = world.client.post(
        f"/api/v1/articles/{slug}/corrections", json={"text": text}, headers=world.headers
    )
    assert response.status_code == 201, response.text
    return response


def _notices(world: World, status: str | None = None) -> list[dict]:
    query = f"?status={status}" if status else ""
    response = world.client.get(f"/api/v1/notices{query}", headers=world.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_register_list_delete(world: World) -> None:
    world.partner()
    issued = world.webhook("gazette", "https://hooks.gazette.example.com/syndication")
    assert issued["secret"].startswith("whsec_") and len(issued["secret"]) > 40
    listed = world.client.get("/api/v1/partners/gazette/webhooks", headers=world.headers).json()
    assert listed == [{k: issued[k] for k in ("id", "url", "created_at")}]  # no secret again
    path = f"/api/v1/partners/gazette/webhooks/{issued['id']}"
    assert world.client.delete(path, headers=world.headers).status_code == 204
    assert world.client.delete(path, headers=world.headers).status_code == 404
    assert world.client.get("/api/v1/partners/gazette/webhooks", headers=world.headers).json() == []


def test_bad_endpoints_name_the_field(world: World) -> None:
    world.partner()
    for url in ("http://hooks.example.com/x", "ftp://x.example.com/", "https://u:p@x.example.com/"):
        response = world.client.post(
            "/api/v1/partners/gazette/webhooks", json={"url": url}, headers=world.headers
        )
        assert response.status_code in (400, 422), url
        assert response.json()["errors"][0]["field"] == "url"
    missing = world.client.post(
        "/api/v1/partners/nope/webhooks", json={"url": "https://x.example.com/"},
        headers=world.headers,
    )  # fmt: skip
    assert missing.status_code == 404


def test_loopback_http_only_by_setting(
    client: TestClient, staff_headers: dict[str, str], world: World
) -> None:
    world.partner()
    strict = create_app(dataclasses.replace(world.settings, webhook_allow_loopback_http=False))
    with TestClient(strict, base_url=BASE_URL) as other:
        response = other.post(
            "/api/v1/partners/gazette/webhooks", json={"url": "http://127.0.0.1:9/hook"},
            headers=staff_headers,
        )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"
    assert world.webhook("gazette", "http://127.0.0.1:9/hook")["url"] == "http://127.0.0.1:9/hook"


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side, exactly as docs/partners.md tells partners to do it."""
    timestamp = headers["Syndication-Timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["Syndication-Signature"], "v1=" + expected.hexdigest())


def test_correction_reaches_holders_of_earlier_revisions_signed(
    world: World, server: Server
) -> None:
    world.piece()
    world.partner()
    world.partner("herald")
    world.partner("stranger")
    gazette = world.webhook("gazette", server.url + "/gazette")
    world.webhook("stranger", server.url + "/stranger")  # never received the piece
    world.deliver("gazette", "council-budget")
    world.deliver("herald", "council-budget")  # holds it, but has no endpoint

    _correct(world)
    assert [n["status"] for n in _notices(world)] == ["pending"]  # only written, not sent
    assert server.requests == []

    assert run_due_notices(world.engine, world.settings, world.clock()) == 1
    [request] = server.requests
    assert request.path == "/gazette"
    assert _verify(gazette["secret"], request.headers, request.body)
    assert not _verify("whsec_wrong", request.headers, request.body)
    assert not _verify(gazette["secret"], request.headers, request.body + b" ")
    assert request.headers["Syndication-Event"] == "correction"
    assert request.headers["User-Agent"] == "syndication-webhooks/1"
    body = request.json()
    assert request.headers["Syndication-Delivery"] == str(body["id"])
    assert body["kind"] == "correction" and body["revision"] == 2
    assert body["reason"] == "Fixed the vote count."
    assert body["piece"]["slug"] == "council-budget"
    assert body["bundle_url"] == f"{BASE_URL}/bundles/council-budget.zip"

    [notice] = _notices(world, "delivered")
    assert notice["partner"] == "gazette" and notice["kind"] == "correction"
    assert [a["status_code"] for a in notice["attempts"]] == [200]
    assert run_due_notices(world.engine, world.settings, world.clock()) == 0  # sent once


def test_retries_with_backoff_after_two_failures(world: World, server: Server) -> None:
    world.piece()
    world.partner()
    world.webhook("gazette", server.url + "/hook")
    world.deliver("gazette", "council-budget")
    _correct(world)
    server.statuses = [500, 503]

    now = world.clock()
    assert run_due_notices(world.engine, world.settings, now) == 1
    assert run_due_notices(world.engine, world.settings, now + timedelta(seconds=29)) == 0
    assert run_due_notices(world.engine, world.settings, now + timedelta(seconds=30)) == 1
    later = now + timedelta(seconds=30)
    assert run_due_notices(world.engine, world.settings, later + timedelta(seconds=59)) == 0
    assert run_due_notices(world.engine, world.settings, later + timedelta(seconds=60)) == 1

    assert len(server.requests) == 3
    assert len({r.headers["Syndication-Delivery"] for r in server.requests}) == 1
    [notice] = _notices(world)
    assert notice["status"] == "delivered"
    assert [a["status_code"] for a in notice["attempts"]] == [500, 503, 200]


def test_receiver_down_never_slows_staff_and_is_logged(
    world: World, free_url: Callable[[], str]
) -> None:
    world.piece()
    world.partner()
    world.webhook("gazette", free_url())
    world.deliver("gazette", "council-budget")
    started = time.monotonic()
    _correct(world)
    assert time.monotonic() - started < 2

    run_due_notices(world.engine, world.settings, world.clock())
    [notice] = _notices(world, "pending")
    [attempt] = notice["attempts"]
    assert attempt["status_code"] is None and "Connect" in attempt["error"]
    assert notice["next_attempt_at"] > notice["created_at"]


def test_gives_up_after_max_attempts(world: World, free_url: Callable[[], str]) -> None:
    world.piece()
    world.partner()
    world.webhook("gazette", free_url())
    world.deliver("gazette", "council-budget")
    _correct(world)
    now = world.clock()
    for _ in range(MAX_ATTEMPTS + 2):
        run_due_notices(world.engine, world.settings, now)
        now += timedelta(hours=2)
    [notice] = _notices(world, "failed")
    assert len(notice["attempts"]) == MAX_ATTEMPTS


def test_a_claimed_notice_is_not_claimed_twice(world: World, server: Server) -> None:
    world.piece()
    world.partner()
    world.webhook("gazette", server.url + "/hook")
    world.deliver("gazette", "council-budget")
    _correct(world)
    assert len(claim_due(world.engine, world.clock())) == 1
    # Another worker, at the same moment: the lease holds it.
    assert run_due_notices(world.engine, world.settings, world.clock()) == 0
    assert server.requests == []
    # A worker that died keeps its lease only so long; then the notice is sent.
    lapsed = world.clock() + LEASE + timedelta(seconds=1)
    assert run_due_notices(world.engine, world.settings, world.clock() + LEASE) == 0
    assert run_due_notices(world.engine, world.settings, lapsed) == 1


def test_deleted_endpoint_cancels_its_pending_notices(world: World, server: Server) -> None:
    world.piece()
    world.partner()
    hook = world.webhook("gazette", server.url + "/hook")
    world.deliver("gazette", "council-budget")
    _correct(world)
    world.client.delete(f"/api/v1/partners/gazette/webhooks/{hook['id']}", headers=world.headers)
    assert run_due_notices(world.engine, world.settings, world.clock()) == 0
    assert [n["status"] for n in _notices(world)] == ["cancelled"]


def test_bad_status_filter_names_the_field(world: World) -> None:
    response = world.client.get("/api/v1/notices?status=lost", headers=world.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_nothing_lost_across_a_restart(world: World, server: Server) -> None:
    """The first app never sends (worker off); the next one, with its real loop, does."""
    world.piece()
    world.partner()
    hook = world.webhook("gazette", server.url + "/hook")
    world.deliver("gazette", "council-budget")
    _correct(world)
    world.client.__exit__(None, None, None)  # the first app stops with the notice undelivered

    restarted = create_app(
        dataclasses.replace(world.settings, worker_enabled=True, worker_poll_s=0.05),
        clock=world.clock,
    )
    with TestClient(restarted, base_url=BASE_URL) as client:
        assert server.arrived.wait(10), "the restarted worker never sent the notice"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            notices = client.get("/api/v1/notices", headers=world.headers).json()
            if notices[0]["status"] == "delivered":
                break
            time.sleep(0.05)
    assert notices[0]["status"] == "delivered"
    [request] = server.requests
    assert _verify(hook["secret"], request.headers, request.body)


def test_correction_and_its_notices_commit_together(
    world: World, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the notices fails, the correction is not half-written either."""
    world.piece()
    world.partner()
    world.webhook("gazette", server.url + "/hook")
    world.deliver("gazette", "council-budget")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(outbox, "_enqueue", broken)
    failed = world.client.post(
        "/api/v1/articles/council-budget/corrections", json={"text": "x"}, headers=world.headers
    )
    assert failed.status_code == 500
    piece = world.client.get("/api/v1/articles/council-budget", headers=world.headers).json()
    assert piece["revision"] == 1 and piece["corrections"] == []
    assert _notices(world) == []


def test_private_destinations_refused_at_send_time(world: World, server: Server) -> None:
    """An endpoint that now points at a private address is not called without the setting."""
    world.piece()
    world.partner()
    world.webhook("gazette", server.url + "/hook")
    world.deliver("gazette", "council-budget")
    _correct(world)
    strict = dataclasses.replace(world.settings, webhook_allow_loopback_http=False)
    run_due_notices(world.engine, strict, world.clock())
    assert server.requests == []
    [notice] = _notices(world, "pending")
    assert "non-public" in notice["attempts"][0]["error"]


def test_a_worker_shutting_down_sends_no_more_and_releases_the_rest(
    world: World, server: Server
) -> None:
    """Once `stop` is set (shutdown) a batch sends no further notice, and the rest are free
    for the next poll of any worker at once, not when the lease runs out (5 minutes)."""
    world.piece()
    for slug in ("gazette", "herald"):
        world.partner(slug)
        world.webhook(slug, f"{server.url}/{slug}")
        world.deliver(slug, "council-budget")
    _correct(world)
    stop = threading.Event()
    now = world.clock()
    with httpx.Client(event_hooks={"response": [lambda _: stop.set()]}) as http:  # after one
        assert run_due_notices(world.engine, world.settings, now, http=http, stop=stop) == 1
    assert len(server.requests) == 1
    assert sorted(n["status"] for n in _notices(world)) == ["delivered", "pending"]
    assert run_due_notices(world.engine, world.settings, now) == 1  # the lease was given back
    assert len(server.requests) == 2 and {r.path for r in server.requests} == {
        "/gazette",
        "/herald",
    }
