"""Per-worker feed machinery: the catalog-version probe, the key and render caches, and the
usage buffer. Created on first use and kept in the app's state.

Every request reads the catalog version from the database (several workers or hosts may
write), so a key cached by (key hash, version) is refused on the very next request after a
revocation, and a cached feed is never served past a write partners could see.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import psycopg
from anyio import to_thread
from psycopg import pq
from psycopg.conninfo import make_conninfo
from sqlalchemy import text
from sqlalchemy.engine import Engine

from syndication.db import libpq_url, with_options
from syndication.errors import refused
from syndication.feeds.cache import LruCache, Rendered, feed_cache
from syndication.feeds.walindex import WalIndex
from syndication.partners.models import Partner
from syndication.settings import Settings
from syndication.usage.service import Usage, record

logger = logging.getLogger(__name__)
VERSION_SQL = "SELECT version FROM catalog_state WHERE id = 1"
# Held pulls are written every second by the worker's flusher, and at once when this many rows
# are held: one batch of 5,000 rows held the GIL for ~35 ms and set every feed's p99 latency
# (measured with wrk). A row stands for one partner and format in one second.
USAGE_FLUSH_SECONDS = 1.0
USAGE_FLUSH_ROWS = 500
# A version read that takes longer fails its requests instead of holding them: the server's
# statement_timeout for a slow query, and a deadline of our own for a server or network that
# stops answering (a failover, a partition), where a socket could wait for minutes.
PROBE_TIMEOUT_MS = 2000
# For renders and ledger writes in flight (lifespan); then the held usage counts are written,
# within the statement timeout, before granian's kill at 30 s (server.py).
SHUTDOWN_WAIT_S = 10


class Wire(Protocol):
    """A connection that answers the version query without blocking (_PgVersion)."""

    def send(self) -> bool: ...  # sends the query; False if it could not all be written yet
    def fileno(self) -> int: ...
    def answer(self) -> int | None: ...  # reads what arrived: None while the answer is due
    async def read(self) -> int: ...  # send and answer, waiting as needed
    def close(self) -> None: ...


def _timed_out(seconds: float) -> psycopg.OperationalError:
    return psycopg.OperationalError(f"the catalog version read took over {seconds:g} s")


def _own(error: BaseException) -> BaseException:
    """A copy of `error` for one waiting request, caused by it: one object raised in every
    request of a batch would gather all their tracebacks, each logged with the others'."""
    try:
        # Shallow: type, args and attributes; no traceback, cause or context. psycopg's
        # errors drop their connection handle when copied (none on this path carries one).
        mine = copy.copy(error)
    except Exception:  # a type that cannot be copied: the shared object, as before
        return error
    mine.__cause__ = error
    return mine


class SharedRead:
    """One round trip answers every request that arrived before it was sent.

    A request waits for a read whose query is sent after it arrived (never one already sent,
    which could miss a commit made just before the request), and every request waiting when
    that query is sent shares its answer. A read is sent one loop iteration after it is
    asked for, so the requests that arrive meanwhile share it too: each read costs ~25 µs of
    CPU on this host (the loopback send and the wake-up), as much as a 304 itself. Under load
    one query serves a whole batch of pulls; alone, a request pays one round trip, as before.

    The steady state runs in loop callbacks, with no task and no shielded future between the
    answer and the requests: on a loaded worker every extra hop through the event loop waits
    for a full pass over the other requests' work, and with four hops per read a 304 on
    PostgreSQL took twice hello world's latency. Connecting, and the one retry on a fresh
    connection after a failure, run in a task (`_slowly`): a read that fails is sent again once
    on a fresh connection. A read unanswered after `timeout` seconds (connecting included)
    fails its requests and drops the connection. Bound to its event loop.
    """

    def __init__(
        self, connect: Callable[[], Awaitable[Wire]], timeout: float = PROBE_TIMEOUT_MS / 1000
    ) -> None:
        self._connect = connect
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None  # the deadline of the read in flight
        self._loop = asyncio.get_running_loop()
        self._wire: Wire | None = None
        self._waiting: list[asyncio.Future[int]] = []  # arrived; their read is not sent yet
        self._sent: list[asyncio.Future[int]] = []  # the read in flight answers these
        self._active = False  # a read is asked for, in flight, or being retried
        self._reading = -1  # the descriptor our reader callback watches, if any
        self._slow: asyncio.Task[None] | None = None
        self._closed = False

    async def read(self) -> int:
        if self._closed:
            raise psycopg.OperationalError("the catalog probe was closed")
        future = self._loop.create_future()
        self._waiting.append(future)
        if not self._active:
            self._active = True
            self._loop.call_soon(self._next)  # the arrivals of this loop iteration join it
        return await future  # a request that goes away cancels its own future only

    def _next(self) -> None:
        """Send the read for everyone waiting, or go idle."""
        batch = [future for future in self._waiting if not future.done()]
        self._waiting = []
        if not batch:
            self._active = False
            return
        self._sent = batch
        wire = self._wire
        if wire is not None:
            try:
                if wire.send():
                    self._reading = wire.fileno()
                    self._loop.add_reader(self._reading, self._readable)
                    self._timer = self._loop.call_later(self._timeout, self._expired)
                    return
            except Exception:
                logger.warning("catalog version read failed; reconnecting", exc_info=True)
            self._drop()  # failed, or the socket took only part of a 60-byte message
        self._slow = self._loop.create_task(self._slowly(tries=2))

    def _readable(self) -> None:
        assert self._wire is not None
        try:
            value = self._wire.answer()
        except Exception:  # a dropped connection, a server restart: the same batch, again
            logger.warning("catalog version read failed; reconnecting", exc_info=True)
            deadline = self._timer.when() if self._timer is not None else None  # the batch's
            self._drop()
            self._slow = self._loop.create_task(self._slowly(tries=1, deadline=deadline))
            return
        if value is not None:
            self._stop_reading()
            self._answer(value)

    def _expired(self) -> None:
        """The read in flight went unanswered: its requests fail, the connection goes."""
        self._timer = None
        logger.warning("catalog version read unanswered after %.1f s; reconnecting", self._timeout)
        self._drop()
        self._answer(None, _timed_out(self._timeout))

    def _answer(self, value: int | None, error: BaseException | None = None) -> None:
        for future in self._sent:
            if future.done():  # its request went away
                continue
            if error is None:
                future.set_result(value)  # type: ignore[arg-type]
            else:
                future.set_exception(_own(error))
        self._sent = []
        self._next()  # at once: everyone waiting arrived before this moment

    async def _slowly(self, tries: int, deadline: float | None = None) -> None:
        """Connect if need be and read, for the batch sent: `tries` times, each on a fresh
        connection after a failure (a dropped connection, a restarted server). The last
        failure reaches every request of the batch."""
        error: Exception | None = None
        if deadline is None:  # for all the tries together
            deadline = self._loop.time() + self._timeout
        for _ in range(tries):
            try:
                async with asyncio.timeout_at(deadline):  # its own cancel becomes TimeoutError
                    if self._wire is None:
                        self._wire = await self._connect()
                    value = await self._wire.read()
            except asyncio.CancelledError:  # the loop is closing: nobody is left to answer
                self._drop()
                for future in (*self._sent, *self._waiting):
                    future.cancel()
                self._sent, self._waiting, self._active, self._slow = [], [], False, None
                raise
            except TimeoutError:
                self._drop()
                error = _timed_out(self._timeout)
                break  # no time is left for another try
            except Exception as failure:
                self._drop()
                error = failure
            else:
                self._slow = None
                self._answer(value)
                return
        self._slow = None
        self._answer(None, error)

    def _stop_reading(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._reading >= 0:
            self._loop.remove_reader(self._reading)
            self._reading = -1

    def _drop(self) -> None:
        if self._wire is not None:
            self._stop_reading()
            self._wire.close()
            self._wire = None

    def close(self) -> None:
        """Close the connection; a read in flight fails its waiters. No await: the loop may
        be gone."""
        self._closed = True
        if self._slow is not None and not self._loop.is_closed():
            self._slow.cancel()
        self._slow = None
        self._drop()
        pending, self._sent, self._waiting = [*self._sent, *self._waiting], [], []
        for future in pending:
            if not future.done() and not future.get_loop().is_closed():
                future.set_exception(psycopg.OperationalError("the catalog probe was closed"))
        self._active = False


class CatalogProbe:
    """Reads the catalog version for each request. SQLite: on the event loop, over a
    connection of its own kept out of the pool, and only when the database's wal-index
    header shows a commit since the last read (walindex.py). PostgreSQL: a prepared
    statement on a libpq connection of its own in autocommit (_PgVersion), bounded by a short
    statement timeout and a deadline of its own (PROBE_TIMEOUT_MS, connecting included),
    shared by the requests that arrived before it began (SharedRead): one
    round trip per request capped a worker at the round-trip rate (~6,000 pulls a second,
    measured), and a thread hop plus a pool checkout with its pre-ping cost five times as
    much. Other backends use a pooled connection from a worker thread.

    The version is read, never pushed (as LISTEN/NOTIFY would), so a request that starts
    after a commit anywhere sees that commit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.inline = self.dialect == "sqlite"  # `read` may run on the event loop
        self._raw: Any = None  # SQLite: the connection of `read`
        self._cursor: Any = None
        self._wal: WalIndex | None = None  # SQLite: its wal-index header, while _raw is open
        self._seen: tuple[bytes, int] | None = None  # (header, version) at the last query
        self._shared: SharedRead | None = None  # PostgreSQL: `version`, on its own connection

    async def version(self) -> int:
        if self.dialect == "sqlite":
            return self.read()
        if self.dialect == "postgresql":
            shared = self._shared
            if shared is None or shared._loop is not asyncio.get_running_loop():
                if shared is not None:
                    shared.close()
                shared = self._shared = SharedRead(self._connect)
            return await shared.read()
        return await to_thread.run_sync(self.read)

    async def _connect(self) -> _PgVersion:
        return await _PgVersion.connect(_conninfo(self.engine))

    def read(self) -> int:
        """The version, read synchronously: on SQLite over the probe's own connection (the
        request path); on other backends over the pool (run it in a thread)."""
        if self.dialect != "sqlite":
            with self.engine.connect() as conn:
                value = conn.execute(text(VERSION_SQL)).scalar()
            return int(value) if value is not None else 1
        for attempt in (1, 2):
            try:
                if self._raw is None:
                    self._open()
                # Unchanged header: nothing committed since the last query (walindex.py).
                header = self._wal.header() if self._wal is not None else None
                seen = self._seen
                if header is not None and seen is not None and seen[0] == header:
                    return seen[1]
                row = self._cursor.execute(VERSION_SQL).fetchone()  # taken after the header
                version = int(row[0]) if row else 1
                self._seen = (header, version) if header is not None else None
                return version
            except Exception:
                self._close_sync()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _open(self) -> None:
        self._raw = self.engine.raw_connection()
        self._cursor = self._raw.driver_connection.cursor()
        self._cursor.execute(VERSION_SQL).fetchone()  # maps the -shm file, in WAL mode
        database = self.engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            self._wal = WalIndex.open(database)

    def _close_sync(self) -> None:
        self._seen = None
        self._wal = None  # the mapping itself stays open: walindex.py says why
        if self._raw is not None:
            try:
                self._raw.close()
            finally:
                self._raw = self._cursor = None

    def close(self) -> None:
        self._close_sync()
        if self._shared is not None:
            self._shared.close()
        self._shared = None


def _conninfo(engine: Engine) -> str:
    """The engine's database for libpq, with the probe's statement timeout."""
    options = with_options(engine.url, f"-c statement_timeout={PROBE_TIMEOUT_MS}")
    return make_conninfo(libpq_url(engine.url), options=options)


class _PgVersion:
    """The version query on libpq directly (psycopg's `pq` layer), non-blocking on the event
    loop: a prepared statement, sent, then read when the socket is readable. psycopg's
    AsyncConnection.execute spent ~75 µs more CPU per query here (cursor, generators, locks),
    and under load the probe runs about once per request or two."""

    NAME = b"syndication_catalog_version"

    def __init__(self, pgconn: pq.abc.PGconn) -> None:
        self.pgconn = pgconn
        self.loop = asyncio.get_running_loop()
        self._got: pq.abc.PGresult | None = None  # the query's result, before its end

    @classmethod
    async def connect(cls, conninfo: str) -> _PgVersion:
        pgconn = pq.PGconn.connect_start(conninfo.encode())
        probe = cls(pgconn)
        try:
            if pgconn.status == pq.ConnStatus.BAD:
                raise psycopg.OperationalError(_message(pgconn))
            status = pq.PollingStatus.WRITING  # libpq: as if the last poll asked to write
            while status != pq.PollingStatus.OK:
                if status == pq.PollingStatus.FAILED:
                    raise psycopg.OperationalError(_message(pgconn))
                await probe._wait(writing=status == pq.PollingStatus.WRITING)
                status = pq.PollingStatus(pgconn.connect_poll())
            pgconn.nonblocking = 1
            pgconn.send_prepare(cls.NAME, VERSION_SQL.encode())
            await probe._result(pq.ExecStatus.COMMAND_OK)
        except BaseException:
            pgconn.finish()
            raise
        return probe

    def send(self) -> bool:
        self.pgconn.send_query_prepared(self.NAME, None)
        return self.pgconn.flush() == 0

    def fileno(self) -> int:
        return self.pgconn.socket

    def answer(self) -> int | None:
        result = self._step(pq.ExecStatus.TUPLES_OK)
        return None if result is None else _version(result)

    async def read(self) -> int:
        self.send()  # what it could not write yet, _result flushes
        return _version(await self._result(pq.ExecStatus.TUPLES_OK))

    async def _result(self, expected: pq.ExecStatus) -> pq.abc.PGresult:
        pgconn = self.pgconn
        while pgconn.flush():
            await self._wait(writing=True)
        while (result := self._step(expected)) is None:
            await self._wait(writing=False)
        return result

    def _step(self, expected: pq.ExecStatus) -> pq.abc.PGresult | None:
        """Read what arrived, never blocking: the query's result once its end has come
        (libpq's get_result would block while it is due), else None."""
        pgconn = self.pgconn
        pgconn.consume_input()  # raises OperationalError if the connection is gone
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:  # the end of this query's results
                got, self._got = self._got, None
                if got is None or got.status != expected:
                    raise _server_error(pgconn, got)
                return got
            if self._got is None:
                self._got = result
        return None

    async def _wait(self, writing: bool) -> None:
        loop, fd = self.loop, self.pgconn.socket
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        if writing:
            loop.add_writer(fd, wake)
        else:
            loop.add_reader(fd, wake)
        try:
            await ready
        finally:
            loop.remove_writer(fd) if writing else loop.remove_reader(fd)

    def close(self) -> None:
        """Close the connection, first taking its socket out of the loop: a waiter's own
        removal comes a step later, when its descriptor number may belong to someone else."""
        try:
            fd = self.pgconn.socket
        except psycopg.OperationalError:  # no socket left
            fd = -1
        if fd >= 0 and not self.loop.is_closed():
            self.loop.remove_reader(fd)
            self.loop.remove_writer(fd)
        self.pgconn.finish()


def _version(result: pq.abc.PGresult) -> int:
    value = result.get_value(0, 0) if result.ntuples else None
    return int(value) if value is not None else 1


def _server_error(pgconn: pq.abc.PGconn, result: pq.abc.PGresult | None) -> psycopg.Error:
    """The server's error as psycopg's class for its SQLSTATE (a missing table is then a
    ProgrammingError, a 500, not an OperationalError, a 503 to retry); OperationalError when
    the server sent none (the connection went)."""
    if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
        return psycopg.errors.error_from_result(result)  # an unknown code: its class's base
    return psycopg.OperationalError(_message(pgconn, result))


def _message(pgconn: pq.abc.PGconn, result: pq.abc.PGresult | None = None) -> str:
    text = (result.error_message if result is not None else b"") or pgconn.error_message
    return text.decode(errors="replace").strip() or "the catalog version read failed"


def key_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class UsageBuffer:
    """Feed pulls counted in memory, one count per (partner, format, second), and written as
    one row each (`times` = the count): every USAGE_FLUSH_SECONDS by the worker's flusher
    (`lifespan`), at once by a background task when USAGE_FLUSH_ROWS rows are held, and what is
    left at shutdown. A row a pull cost ~40 µs of database work on the 2-core bench host, more
    than a 304 itself (py-spy, docs/performance.md); a busy partner now costs a row a second.
    Flushing from the pulls themselves (every 0.1 s) left the last pulls before a quiet spell
    unwritten until the next pull, however late."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._counts: dict[tuple[int, str, datetime], int] = {}
        self._lock = threading.Lock()
        self._asked = False  # a flush was asked of a pull's background task and not yet run

    def pull(self, partner_id: int, fmt: str, at: datetime) -> bool:
        """Count one pull; True (once) when so many rows are held that the caller should
        schedule `flush` now rather than leave them to the flusher."""
        key = (partner_id, fmt, at.replace(microsecond=0))
        with self._lock:
            counts = self._counts
            counts[key] = counts.get(key, 0) + 1
            if self._asked or len(counts) < USAGE_FLUSH_ROWS:
                return False
            self._asked = True
            return True

    def held(self) -> bool:
        return bool(self._counts)

    def flush(self) -> None:
        """Write what is held, USAGE_FLUSH_ROWS rows per statement. A batch the database
        refused for a row in it (a partner deleted while its pulls were held) is written again
        row by row, and only the refused rows are dropped (logged), or they would fail every
        flush after them; on any other failure what was not written goes back for the next
        flush and the error is raised."""
        with self._lock:
            counts, self._counts = self._counts, {}
            self._asked = False
        rows = list(counts.items())
        start, one_by_one_until = 0, 0
        while start < len(rows):
            size = 1 if start < one_by_one_until else USAGE_FLUSH_ROWS
            batch = rows[start : start + size]
            try:
                record(self.engine, [
                    Usage(kind="feed_pull", partner_id=partner_id, at=at, format=fmt, times=times)
                    for (partner_id, fmt, at), times in batch
                ])  # fmt: skip
            except BaseException as error:
                if isinstance(error, Exception) and refused(error):
                    if len(batch) > 1:  # which row? each on its own
                        one_by_one_until = start + len(batch)
                        continue
                    logger.exception("the database refused a feed-pull row; dropped: %s", batch)
                    start += 1
                    continue
                with self._lock:  # one transaction per statement: none of these was written
                    for key, times in rows[start:]:
                        self._counts[key] = self._counts.get(key, 0) + times
                raise
            start += len(batch)


async def flush_usage(usage: UsageBuffer) -> None:
    """Write the held pulls every USAGE_FLUSH_SECONDS, off the event loop, until cancelled."""
    while True:
        await asyncio.sleep(USAGE_FLUSH_SECONDS)
        if usage.held():
            try:
                await to_thread.run_sync(usage.flush)
            except Exception:  # kept (UsageBuffer.flush): the next flush writes them too
                logger.exception("writing the held feed pulls failed; kept for the next try")


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
    filling: dict[tuple, asyncio.Task[tuple[Rendered, asyncio.Task[None] | None]]] = field(
        default_factory=dict
    )  # renders in flight, by cache key (serving.fill_once)
    ledger: set[asyncio.Task[None]] = field(default_factory=set)  # writes in flight (serving)


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


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The app's lifespan hook: the usage flusher runs while the app runs. It stops before the
    shutdown hook (`shutdown`) writes what is still held."""
    feeds = runtime(app)
    flusher = asyncio.create_task(flush_usage(feeds.usage))
    try:
        yield
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        # Renders in flight and the ledger's writes, before the pool goes: a render that
        # ends adds its write. Bounded (SHUTDOWN_WAIT_S), so the held usage counts are still
        # written (`shutdown`) before granian's kill.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_WAIT_S):
                while feeds.filling or feeds.ledger:
                    await asyncio.gather(
                        *feeds.filling.values(), *feeds.ledger, return_exceptions=True
                    )


def shutdown(app: Any) -> None:
    """Write the pulls still buffered and give the probe's connection back."""
    found: FeedRuntime | None = app.state.get("feeds")
    if found is not None:
        try:
            found.usage.flush()
        finally:
            found.probe.close()
