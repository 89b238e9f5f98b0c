"""The notice worker: claims due notices with a lease, POSTs them signed, logs every attempt,
backs off exponentially; queues takedown reminders; runs the scheduled compliance check.

Started in the app's lifespan when `settings.worker_enabled`; every process may run one, the
conditional UPDATEs make sure each attempt is made by one of them only."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from anyio import to_thread
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from syndication.accountability import compliance, destinations, outbox, signing
from syndication.accountability.models import Notice, NoticeAttempt, WebhookEndpoint
from syndication.db import session_scope
from syndication.settings import Settings

log = logging.getLogger("syndication.worker")

BACKOFF_BASE_S = 30
BACKOFF_CAP_S = 3600
MAX_ATTEMPTS = 10
BATCH = 20
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# At shutdown, how long the page or notice in hand may take before it is let go (its thread
# finishes it while the rest of shutdown goes on): the whole budget is granian's 30 s, and
# then the feeds wait up to 10 s for renders and the usage write has its statement timeout.
STOP_WAIT_S = 3.0
USER_AGENT = "syndication-webhooks/1"
# Long enough for a whole batch of slow receivers, so a lease never lapses mid-send.
LEASE = timedelta(seconds=BATCH * 15 + 60)


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: 30 s, 60 s, 120 s ... capped at one hour."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


def claim_due(engine: Engine, now: datetime) -> list[tuple[Notice, WebhookEndpoint, str]]:
    token = uuid.uuid4().hex
    claimed = []
    free = or_(col(Notice.lease_until).is_(None), col(Notice.lease_until) < now)
    with session_scope(engine) as session:
        due = session.scalars(
            select(Notice.id)
            .where(Notice.status == "pending", col(Notice.next_attempt_at) <= now, free)
            .order_by(col(Notice.next_attempt_at), col(Notice.id))
            .limit(BATCH)
        ).all()
        for notice_id in due:
            won = session.execute(
                update(Notice)
                .where(col(Notice.id) == notice_id, col(Notice.status) == "pending", free)
                .values(lease_token=token, lease_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                notice = session.get(Notice, notice_id)
                assert notice is not None
                session.refresh(notice)
                endpoint = session.get(WebhookEndpoint, notice.endpoint_id)
                assert endpoint is not None
                claimed.append((notice, endpoint, token))
    return claimed


def body_of(notice: Notice, settings: Settings) -> bytes:
    payload: dict[str, Any] = {"id": notice.id, **notice.payload}
    if "bundle_url" in payload:
        payload["bundle_url"] = settings.absolute(payload["bundle_url"])
    if "removal_request" in payload:
        request = dict(payload["removal_request"])
        request["ack_url"] = settings.absolute(request["ack_url"])
        payload["removal_request"] = request
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _send(
    http: httpx.Client, settings: Settings, notice: Notice, endpoint: WebhookEndpoint
) -> tuple[int | None, str | None]:
    assert notice.id is not None
    if endpoint.deleted_at is not None:
        return None, "endpoint removed"
    body = body_of(notice, settings)
    headers = signing.headers(endpoint.secret, int(time.time()), body, notice.kind, notice.id)
    headers["User-Agent"] = USER_AGENT
    try:
        destinations.check(endpoint.url, settings.webhook_allow_loopback_http)
        response = http.post(endpoint.url, content=body, headers=headers)
    except destinations.Refused as exc:
        return None, str(exc)[:500]
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return response.status_code, None


def _finish(
    engine: Engine, notice: Notice, token: str, now: datetime, outcome: tuple, ms: int
) -> None:  # type: ignore[type-arg]
    status_code, error = outcome
    ok = status_code is not None and 200 <= status_code < 300
    attempts = notice.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "lease_token": None, "lease_until": None}
    if ok:
        values.update(status="delivered", delivered_at=now)
    elif error == "endpoint removed":
        values.update(status="cancelled")
    elif attempts >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=now + backoff(attempts))
    with session_scope(engine) as session:
        mine = session.execute(
            update(Notice)
            .where(col(Notice.id) == notice.id, col(Notice.lease_token) == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if mine.rowcount == 1:  # type: ignore[attr-defined]
            assert notice.id is not None
            session.add(
                NoticeAttempt(
                    notice_id=notice.id, at=now, status_code=status_code, error=error,
                    duration_ms=ms,
                )
            )  # fmt: skip


def run_due_notices(
    engine: Engine, settings: Settings, now: datetime, http: httpx.Client | None = None,
    stop: threading.Event | None = None,
) -> int:  # fmt: skip
    """Send every notice due at `now` once; answers how many attempts were made. Once `stop`
    is set (the worker shuts down) no further notice is sent, and the rest of the batch is
    released at once for any worker's next poll, rather than when its lease runs out."""
    claimed = claim_due(engine, now)
    if not claimed:
        return 0
    own = http is None
    client = http or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    sent = 0
    try:
        for notice, endpoint, token in claimed:
            if stop is not None and stop.is_set():
                _release([n.id for n, _, _ in claimed[sent:]], token, engine)
                break
            started = time.monotonic()
            outcome = _send(client, settings, notice, endpoint)
            ms = int((time.monotonic() - started) * 1000)
            _finish(engine, notice, token, now, outcome, ms)
            sent += 1
    finally:
        if own:
            client.close()
    return sent


def _release(ids: list[int | None], token: str, engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Notice)
            .where(col(Notice.id).in_(ids), col(Notice.lease_token) == token)
            .values(lease_token=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def remind_overdue(engine: Engine, settings: Settings, now: datetime) -> int:
    with session_scope(engine) as session:
        return outbox.remind_overdue(session, now, settings.takedown_ack_hours)


def run_cycle(
    engine: Engine, settings: Settings, now: datetime, stop: threading.Event | None = None
) -> None:
    remind_overdue(engine, settings, now)
    run_due_notices(engine, settings, now, stop=stop)


async def _loop(
    job: Callable[[Engine, Settings, datetime], object],
    engine: Engine,
    settings: Settings,
    clock: Callable[[], datetime],
    stopping: asyncio.Event,
) -> None:
    """Runs `job` every poll until `stopping` is set; a job in hand is finished, not dropped."""
    name = getattr(getattr(job, "func", job), "__name__", repr(job))
    while not stopping.is_set():
        try:
            await to_thread.run_sync(job, engine, settings, clock())
        except Exception:  # the loop must outlive a bad cycle; the next one retries
            log.exception("worker cycle failed: %s", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), settings.worker_poll_s)


def lifespan(
    settings: Settings, engine: Engine, clock: Callable[[], datetime]
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan hook: runs the worker loop while the app runs, if enabled. The app
    lists it last, so that at shutdown it stops first, before the feeds wait for their
    renders."""

    @contextlib.asynccontextmanager
    async def manage(_app: Any) -> AsyncIterator[None]:
        if not settings.worker_enabled:
            yield
            return
        # Page checks are slow; their own task keeps them from delaying notices.
        jobs = [run_cycle] + ([compliance.run_if_due] if settings.compliance_interval_s else [])
        # Cancelling a task lets go of the thread its job runs in without stopping it, and the
        # process waits for that thread before it exits: a check of many pages (10 s each at
        # worst) outlasted granian's 30 s kill. The jobs look at `stop` between two pages or
        # two notices, so they end after the one in hand, which shutdown waits for (at most
        # STOP_WAIT_S; a slower one is let go and finishes while shutdown goes on).
        stop, stopping = threading.Event(), asyncio.Event()
        tasks = [
            asyncio.create_task(
                _loop(functools.partial(job, stop=stop), engine, settings, clock, stopping)
            )
            for job in jobs
        ]
        try:
            yield
        finally:
            stop.set()
            stopping.set()
            _, late = await asyncio.wait(tasks, timeout=STOP_WAIT_S)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return manage
