"""Answering a feed request: the partner's key (cached per catalog version), the render cache,
conditional GET, gzip, and the usage record written after the response.

This is the hot path, so it reads the raw ASGI scope and answers a prepared ASGIResponse:
(b) and (c) in bench/feeds.py are measured against bare Litestar handlers. Authentication
runs here rather than in a Litestar guard because Litestar copies the handler for every
guard call, which alone costs a quarter of a 304's budget; every feed route comes through
`respond`, so none can skip it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from litestar import Request
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures import MutableScopeHeaders
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED

from syndication.accountability.ledger import Delivery, record_deliveries
from syndication.db import read_snapshot, session_scope
from syndication.errors import Unauthenticated
from syndication.feeds.cache import Rendered, rendered
from syndication.feeds.conditional import (
    accepts_gzip,
    cache_headers,
    held_coding,
    not_modified,
)
from syndication.feeds.query import FeedQuery, parse_query
from syndication.feeds.render import WRITERS
from syndication.feeds.runtime import FeedRuntime, key_digest
from syndication.feeds.service import build_feed
from syndication.partners.models import Partner
from syndication.partners.service import authenticate
from syndication.ratelimit import AuthThrottle
from syndication.tokens import bearer_token

logger = logging.getLogger(__name__)
_WANTED = {b"authorization", b"if-none-match", b"if-modified-since", b"accept-encoding"}


class FeedResponse(ASGIResponse):
    """An ASGIResponse from headers encoded once per cache entry. Litestar's own constructor
    decodes and re-encodes every header given encoded and warns of a deprecation each call,
    a tenth of a 304's cost (measured)."""

    def __init__(
        self,
        status_code: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
        background: BackgroundTasks | None = None,
        head: bool = False,
    ) -> None:
        self.status_code = status_code
        self.headers = MutableScopeHeaders()
        self.headers.headers = headers
        self.body = body
        self.content_length = len(body)
        self.background = background
        self.is_head_response = head  # the headers as for GET, no body (ASGIResponse)
        self.encoding = "utf-8"
        self._encoded_cookies = ()


def _headers(scope: Any) -> dict[bytes, str]:
    return {k: v.decode("latin-1") for k, v in scope["headers"] if k in _WANTED}


def _secret(headers: dict[bytes, str], params: dict[str, str]) -> str | None:
    return bearer_token(headers.get(b"authorization", "")) or params.get("key") or None


def _authenticate(feeds: FeedRuntime, secret: str) -> Partner:
    with session_scope(feeds.engine, write=False) as session:  # ends with COMMIT: db.py
        return authenticate(session, secret, feeds.clock())


async def authorize(
    feeds: FeedRuntime, secret: str | None, throttle: AuthThrottle, address: str
) -> tuple[Partner, int]:
    """The partner owning the key, verified at most once per (key, catalog version)."""
    if not secret:
        raise Unauthenticated("a valid partner key is required")
    # Read the version before verifying, so a revocation racing this request bumps past it.
    probe = feeds.probe
    version = probe.read() if probe.inline else await probe.version()
    digest = key_digest(secret)
    cached = feeds.keys.get(digest)
    if cached is not None and cached[0] == version:
        return cached[1], version
    partner = await throttle.attempt(
        address, secret, lambda: to_thread.run_sync(_authenticate, feeds, secret)
    )
    feeds.keys.put(digest, (version, partner))
    return partner, version


def fill(
    feeds: Any, partner: Partner, fmt: str, query: FeedQuery, seen_at: int | None = None
) -> tuple[Rendered, tuple[Delivery, ...]]:
    """A cold render: the view from the database, the writer, the gzip, once; and what the
    ledger must record (cache hits hand out the same bytes, already recorded). `partner` was
    read at catalog version `seen_at`."""
    now = feeds.clock()
    with read_snapshot(feeds.engine) as session:  # every statement sees the same catalog
        built = build_feed(session, feeds.settings, partner, fmt, query, now, seen_at)
    media_type, write = WRITERS[fmt]
    entry = rendered(media_type, write(built.view), built.last_modified, built.expires_at)
    return entry, built.deliveries


async def fill_once(
    feeds: FeedRuntime, key: tuple, partner: Partner, fmt: str, params: dict[str, str]
) -> tuple[Rendered, asyncio.Task[None] | None]:
    """One render per cache key at a time. Requests that miss while it runs share it: a write
    empties every partner's cache at once, a busy feed's pulls then all miss together, and each
    rendering its own copy stacked up (16 at once held a worker for ~150 ms under wrk). The
    render runs in a task of its own, so a request that goes away does not cancel it for the
    others, and so does the ledger's write of what it hands out (`_record`): the request that
    started the render gets that task, to wait for after its answer."""
    running = feeds.filling.get(key)
    if running is not None:
        filled, _ = await asyncio.shield(running)
        return filled, None
    query = parse_query(params)  # a bad query is refused here, before anything is shared
    task = asyncio.get_running_loop().create_task(_fill(feeds, key, partner, fmt, query))
    task.add_done_callback(_retrieved)  # every waiter may have gone before it failed
    feeds.filling[key] = task
    return await asyncio.shield(task)


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def _fill(
    feeds: FeedRuntime, key: tuple, partner: Partner, fmt: str, query: FeedQuery
) -> tuple[Rendered, asyncio.Task[None] | None]:
    try:
        filled, delivered = await to_thread.run_sync(fill, feeds, partner, fmt, query, key[-1])
        feeds.feeds.put(key, filled)
        return filled, _record(feeds, delivered, key, filled) if delivered else None
    finally:
        del feeds.filling[key]


def _record(
    feeds: FeedRuntime, delivered: tuple[Delivery, ...], key: tuple, filled: Rendered
) -> asyncio.Task[None]:
    """The ledger's rows for a render, written by a task of their own: cache hits hand out the
    same bytes and record nothing, so rows tied to the answer (a background task, which does
    not run when the client went away or the answer failed) were lost for good. Shutdown
    waits for these tasks (`runtime.lifespan`)."""
    task = asyncio.get_running_loop().create_task(_write_ledger(feeds, delivered, key, filled))
    feeds.ledger.add(task)
    task.add_done_callback(feeds.ledger.discard)
    return task


async def _write_ledger(
    feeds: FeedRuntime, delivered: tuple[Delivery, ...], key: tuple, filled: Rendered
) -> None:
    for attempt in (1, 2):  # once more: a dropped pooled connection, a restarted server
        try:
            await to_thread.run_sync(record_deliveries, feeds.engine, delivered)
            return
        except Exception:
            if attempt == 1:
                logger.warning("writing the ledger failed; trying again", exc_info=True)
                continue
            # The cached copy goes too: its hits would hand out pieces the ledger never
            # heard of; the next pull renders again and records.
            feeds.feeds.forget(key, filled)
            logger.exception("the ledger could not record %d deliveries", len(delivered))


async def _after(task: asyncio.Task[None]) -> None:
    await asyncio.shield(task)  # the answer's background: the write goes on if it is cancelled


async def respond(feeds: FeedRuntime, request: Request[Any, Any, Any], fmt: str) -> FeedResponse:
    scope = request.scope
    head = scope["method"] == "HEAD"
    headers = _headers(scope)
    params = (
        dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        if scope["query_string"]
        else {}
    )
    client = scope.get("client")
    partner, version = await authorize(
        feeds,
        _secret(headers, params),
        request.app.state.auth_throttle,
        client[0] if client else "?",
    )
    partner_id: int = partner.id  # type: ignore[assignment]
    now = feeds.clock()
    # Keyed on the raw query string: a hit means it parsed before; a miss parses it (400s).
    key = (partner_id, fmt, scope["query_string"], version)
    entry = feeds.feeds.get(key)
    ledger: asyncio.Task[None] | None = None
    if entry is None or not entry.fresh(now):
        # A HEAD renders for its headers but caches nothing, so the GET that renders next
        # records its deliveries in the ledger (a HEAD delivers nothing).
        if head:
            query = parse_query(params)
            filled = await to_thread.run_sync(fill, feeds, partner, fmt, query, version)
            entry = filled[0]
        else:
            entry, ledger = await fill_once(feeds, key, partner, fmt, params)
    # A HEAD hands out no pieces: no pull counted, nothing for the ledger.
    pulled = not head and feeds.usage.pull(partner_id, fmt, now)
    tasks = [BackgroundTask(feeds.usage.flush)] if pulled else []
    if ledger is not None:
        tasks.append(BackgroundTask(_after, ledger))
    background = BackgroundTasks(tasks) if tasks else None
    gzipped = accepts_gzip(headers.get(b"accept-encoding"))
    caching = cache_headers(entry, now, "key" in params, b"authorization" in headers)
    if_none_match = headers.get(b"if-none-match")
    if not_modified(if_none_match, headers.get(b"if-modified-since"), entry):
        # The validated representation's ETag and Last-Modified, without its Content-Encoding
        # (RFC 9110 15.4.5: a 304 carries no other representation metadata).
        held = entry.encoded[held_coding(if_none_match, entry, gzipped)][:2]
        return FeedResponse(
            HTTP_304_NOT_MODIFIED, [*held, *caching], background=background, head=head
        )
    answer = [*entry.encoded[gzipped], *caching]
    body = entry.gzipped if gzipped else entry.body
    answer += ((b"content-type", entry.media_type.encode()), (b"content-length", b"%d" % len(body)))
    return FeedResponse(HTTP_200_OK, answer, body, background, head)
