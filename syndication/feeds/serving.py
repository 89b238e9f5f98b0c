"""Answering a feed request: the partner guard with its key cache, the render cache,
conditional GET, gzip, and the usage record written after the response."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.connection import ASGIConnection
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from syndication.db import open_session
from syndication.deps import partner_secret
from syndication.errors import Unauthenticated
from syndication.feeds.cache import Rendered, rendered
from syndication.feeds.conditional import accepts_gzip, not_modified, response_headers
from syndication.feeds.query import FeedQuery, parse_query
from syndication.feeds.render import WRITERS
from syndication.feeds.runtime import key_digest, runtime
from syndication.feeds.service import build_feed
from syndication.partners.models import Partner
from syndication.partners.service import authenticate
from syndication.usage.service import Usage


def _authenticate(state: Any, secret: str) -> Partner:
    with open_session(state.engine, write=False) as session:
        return authenticate(session, secret, state.clock())


async def feed_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    """The partner owning the key, verified at most once per (key, catalog version)."""
    state = connection.app.state
    feeds = runtime(state)
    secret = partner_secret(connection)
    if not secret:
        raise Unauthenticated("a valid partner key is required")
    # Read the version before verifying, so a revocation racing this request bumps past it.
    probe = feeds.probe
    version = probe.read() if probe.inline else await to_thread.run_sync(probe.read)
    digest = key_digest(secret)
    cached = feeds.keys.get(digest)
    if cached is not None and cached[0] == version:
        partner = cached[1]
    else:
        partner = await to_thread.run_sync(_authenticate, state, secret)
        feeds.keys.put(digest, (version, partner))
    connection.scope["partner"] = partner  # type: ignore[typeddict-unknown-key]
    connection.scope["catalog_version"] = version  # type: ignore[typeddict-unknown-key]


def fill(state: Any, partner: Partner, fmt: str, query: FeedQuery) -> Rendered:
    """A cold render: the view from the database, the writer, the gzip, once."""
    now = state.clock()
    with open_session(state.engine, write=False) as session:
        built = build_feed(session, state.settings, partner, fmt, query, now)
    media_type, write = WRITERS[fmt]
    return rendered(media_type, write(built.view), built.last_modified, built.expires_at)


async def respond(request: Request[Any, Any, Any], fmt: str) -> Response[bytes]:
    state = request.app.state
    feeds = runtime(state)
    query = parse_query(request.query_params)
    partner: Partner = request.scope["partner"]  # type: ignore[typeddict-item]
    now = state.clock()
    key = (partner.id, fmt, query, request.scope["catalog_version"])  # type: ignore[typeddict-item]
    entry = feeds.feeds.get(key)
    if entry is None or not entry.fresh(now):
        entry = await to_thread.run_sync(fill, state, partner, fmt, query)
        feeds.feeds.put(key, entry)
    assert partner.id is not None
    pulled = Usage(kind="feed_pull", partner_id=partner.id, at=now, format=fmt)
    background = BackgroundTask(feeds.usage.flush) if feeds.usage.add(pulled) else None
    headers = request.headers
    gzipped = accepts_gzip(headers.get("accept-encoding"))
    answer = response_headers(entry, now, gzipped)
    if not_modified(headers.get("if-none-match"), headers.get("if-modified-since"), entry):
        return Response(
            b"", status_code=HTTP_304_NOT_MODIFIED, headers=answer, background=background
        )
    return Response(
        entry.gzipped if gzipped else entry.body,
        media_type=entry.media_type,
        headers=answer,
        background=background,
    )
