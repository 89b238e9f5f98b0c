"""Conditional GET and content coding for a rendered feed: pure functions over header values."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

from syndication.feeds.cache import Rendered

MAX_AGE_SECONDS = 60


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip"):
            q = params.strip().removeprefix("q=")
            return not params.strip() or _quality(q) > 0
    return False


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


@lru_cache(maxsize=1024)  # a client sends the same If-None-Match on every poll
def _tags(header: str) -> frozenset[str]:
    return frozenset(t.strip().removeprefix("W/") for t in header.split(",") if t.strip())


def not_modified(if_none_match: str | None, if_modified_since: str | None, entry: Rendered) -> bool:
    """RFC 9110 13.1: If-None-Match wins when present (weak comparison, either coding);
    otherwise If-Modified-Since against the entry's Last-Modified, to the second."""
    if if_none_match is not None:
        tags = _tags(if_none_match)
        return "*" in tags or entry.etag in tags or entry.gzip_etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return entry.last_modified.replace(microsecond=0) <= since
    return False


def held_coding(if_none_match: str | None, entry: Rendered, gzipped: bool) -> bool:
    """The coding (True: gzip) of the representation a `304` confirms: the one whose ETag the
    client sent, which may not be the coding it asks for now (it kept the identity body and
    now accepts gzip); the request's own for `*` or If-Modified-Since. A 304 carrying the
    other coding's ETag would leave a cache with nothing to match it against."""
    if if_none_match is None:
        return gzipped
    tags = _tags(if_none_match)
    mine, other = (entry.gzip_etag, entry.etag) if gzipped else (entry.etag, entry.gzip_etag)
    if mine in tags or "*" in tags:
        return gzipped
    return not gzipped if other in tags else gzipped


def max_age(entry: Rendered, now: datetime) -> int:
    """Seconds a client may reuse the feed: short, and never past the next time-based change."""
    if entry.expires_at is None:
        return MAX_AGE_SECONDS
    return max(0, min(MAX_AGE_SECONDS, int((entry.expires_at - now).total_seconds())))


# A key in the Authorization header: a shared cache (CDN) may store the answer, keyed by that
# header (Vary), but must revalidate every time (RFC 9111 5.2.2.4), so the origin checks the
# key on each pull and a revoked key is refused at once; the revalidation is a cheap 304.
SHARED = ((b"cache-control", b"public, no-cache"), (b"vary", b"Authorization, Accept-Encoding"))
_URL_VARY = (b"vary", b"Accept-Encoding")
_BOTH_VARY = (b"vary", b"Authorization, Accept-Encoding")


def cache_headers(
    entry: Rendered, now: datetime, key_in_url: bool, key_in_header: bool
) -> tuple[tuple[bytes, bytes], ...]:
    """Cache-Control and Vary for a partner's answer. A key in the URL (`?key=`) must never sit
    in a shared cache, so only the partner's own client may keep it, briefly; if the request
    carried a key in the header as well (that one answered), the client's cache must not
    serve this answer to the same URL without that header."""
    if not key_in_url:
        return SHARED
    vary = _BOTH_VARY if key_in_header else _URL_VARY
    return ((b"cache-control", f"private, max-age={max_age(entry, now)}".encode()), vary)
