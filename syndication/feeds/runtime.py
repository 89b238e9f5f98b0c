"""Per-worker feed machinery: the catalog-version probe, the key and render caches, and the
usage buffer. Created on first use and kept in the app's state.

Every request reads the catalog version from the database (several workers or hosts may
write), so a key cached by (key hash, version) is refused on the very next request after a
revocation, and a cached feed is never served past a write partners could see.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from syndication.feeds.cache import LruCache, Rendered, feed_cache
from syndication.partners.models import Partner
from syndication.settings import Settings
from syndication.usage.service import Usage, record

VERSION_SQL = "SELECT version FROM catalog_state WHERE id = 1"
# Small, frequent batches: writing a row costs ~7 µs with the GIL held, so one batch of 5,000
# stalled the event loop for ~35 ms and set every feed's p99 latency (measured with wrk).
USAGE_FLUSH_SECONDS = 0.1
USAGE_FLUSH_EVENTS = 500
PROBE_TIMEOUT_MS = 2000  # the probe blocks its event loop while it waits


class CatalogProbe:
    """Reads the catalog version on the event loop, over one connection of its own kept out of
    the pool: on SQLite a few microseconds; on PostgreSQL one prepared-statement round trip in
    autocommit, bounded by a short statement timeout (a thread hop plus a pool checkout with
    its pre-ping cost five times as much, and capped a worker at about 1,500 pulls a second).
    Other backends use a pooled connection from a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.inline = engine.dialect.name in ("sqlite", "postgresql")
        self._raw: Any = None
        self._cursor: Any = None
        self.driver: Any = None  # the DB-API connection in use, if any

    def read(self) -> int:
        if not self.inline:
            with self.engine.connect() as conn:
                value = conn.execute(text(VERSION_SQL)).scalar()
            return int(value) if value is not None else 1
        for attempt in (1, 2):
            try:
                if self._raw is None:
                    self._open()
                row = self._cursor.execute(VERSION_SQL).fetchone()
                return int(row[0]) if row else 1
            except Exception:
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _open(self) -> None:
        raw = self.engine.raw_connection()
        driver: Any = raw.driver_connection
        if self.engine.dialect.name == "postgresql":
            raw.detach()  # its own session settings never go back to the pool
            driver.autocommit = True  # no transaction left open between requests
            driver.execute(f"SET statement_timeout = {PROBE_TIMEOUT_MS}")
        self._raw, self.driver = raw, driver
        self._cursor = driver.cursor()

    def close(self) -> None:
        if self._raw is not None:
            try:
                self._raw.close()
            finally:
                self._raw = self._cursor = self.driver = None


def key_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class UsageBuffer:
    """Feed pulls gathered in memory and written in one insert at most every
    USAGE_FLUSH_SECONDS (or USAGE_FLUSH_EVENTS), from a background task; whatever is left is
    written at shutdown."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._events: list[Usage] = []
        self._lock = threading.Lock()
        self._last_flush = float("-inf")

    def add(self, event: Usage) -> bool:
        """Keep `event`; True when the caller should schedule `flush`."""
        with self._lock:
            self._events.append(event)
            due = (
                len(self._events) >= USAGE_FLUSH_EVENTS
                or time.monotonic() - self._last_flush >= USAGE_FLUSH_SECONDS
            )
            if due:
                self._last_flush = time.monotonic()
            return due

    def flush(self) -> None:
        with self._lock:
            events, self._events = self._events, []
        record(self.engine, events)


@dataclass
class FeedRuntime:
    # Plain attributes: the hot path avoids Litestar's State lookups (several µs each).
    engine: Engine
    settings: Settings
    clock: Callable[[], datetime]
    probe: CatalogProbe
    usage: UsageBuffer
    keys: LruCache[bytes, tuple[int, Partner]] = field(default_factory=LruCache)
    feeds: LruCache[tuple, Rendered] = field(default_factory=feed_cache)


def runtime(app: Any) -> FeedRuntime:
    """The app's feed runtime, created on first use and kept in its state."""
    state = app.state
    found: FeedRuntime | None = state.get("feeds")
    if found is None:
        engine = state.engine
        found = FeedRuntime(engine=engine, settings=state.settings, clock=state.clock,
                            probe=CatalogProbe(engine), usage=UsageBuffer(engine))  # fmt: skip
        state["feeds"] = found
    return found


def shutdown(app: Any) -> None:
    """Write the pulls still buffered and give the probe's connection back."""
    found: FeedRuntime | None = app.state.get("feeds")
    if found is not None:
        found.usage.flush()
        found.probe.close()
