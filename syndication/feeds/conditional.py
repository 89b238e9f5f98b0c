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


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def not_modified(if_none_match: str | None, if_modified_since: str | None, entry: Rendered) -> bool:
    """RFC 9110 13.1: If-None-Match wins when present (weak comparison, either coding);
    otherwise If-Modified-Since against the entry's Last-Modified, to the second."""
    if if_none_match is not None:
        tags = _tags(if_none_match)
        return "*" in tags or bool(tags & {entry.etag, entry.gzip_etag})
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return entry.last_modified.replace(microsecond=0) <= since
    return False


def max_age(entry: Rendered, now: datetime) -> int:
    """Seconds a client may reuse the feed: short, and never past the next time-based change."""
    if entry.expires_at is None:
        return MAX_AGE_SECONDS
    return max(0, min(MAX_AGE_SECONDS, int((entry.expires_at - now).total_seconds())))


def cache_control(entry: Rendered, now: datetime) -> bytes:
    return f"private, max-age={max_age(entry, now)}".encode()
