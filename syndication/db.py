"""Engine, column types shared by every table, and the session dependency."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from psycopg import ServerCursor
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    TypeDecorator,
    any_,
    bindparam,
    event,
    literal_column,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.orm import Mapped, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine
from sqlmodel import create_engine

from syndication.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Reads of the database file through a memory map instead of read() into each connection's
# 2 MB page cache: a feed's scan walks a few hundred rows whose facts sit on overflow pages
# after the body, and copying those pages in cost ~1 ms of a cold render (SQLite 100k).
# Address space only; the pages are the OS page cache, shared by every connection.
SQLITE_MMAP_BYTES = 1 << 30
# Sync handlers and background tasks run on anyio's worker threads (40 by default), and some
# hold one connection while opening another: a pool that cannot grow to every thread lets
# them all wait on each other until pool_timeout (measured: bundle downloads stalled at 0/s).
THREADS_PER_WORKER = 40
WRITE_OPTION = "syndication_write"


# The id of a table that grows with traffic (deliveries, usage events): 64-bit on PostgreSQL.
# On SQLite an INTEGER PRIMARY KEY is the 64-bit rowid already, and a BIGINT one would not be
# the rowid (no automatic ids), hence the variant.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps stored in UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """What process_result_value answers, in one call per value on SQLite and PostgreSQL:
        the TypeDecorator's own wrapper calls the driver type's processor, then ours (a feed
        render converts ~400 timestamps). PostgreSQL sessions run in UTC (make_engine), so
        psycopg already answers datetime.UTC and nothing is converted."""
        if dialect.name == "sqlite":
            return _from_sqlite
        if dialect.name == "postgresql":
            return _in_utc
        return super().result_processor(dialect, coltype)


def _from_sqlite(text: str | None) -> datetime | None:
    """SQLAlchemy's SQLite DATETIME (fromisoformat), then UTCDateTime.process_result_value."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in_utc(value: datetime | None) -> datetime | None:
    """UTCDateTime.process_result_value, answering an aware UTC value as it is."""
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_loads(text: str | bytes) -> Any:
    """What json.loads answers, from msgspec's C decoder: an article's five JSON columns
    cost a feed page 250 json.loads calls (~0.3 ms). Text msgspec refuses and json accepts
    (NaN, lone surrogate escapes, 1e400) goes to json.loads. SQLite's JSON columns come
    back as text (SQLAlchemy decodes them), PostgreSQL's as bytes (psycopg does)."""
    try:
        return msgspec.json.decode(text)
    except msgspec.MsgspecError:
        return json.loads(text)


def in_list(
    column: Mapped[Any], name: str, item: type[TypeEngine[Any]], dialect: str
) -> ColumnElement[bool]:
    """`column IN :name`, the list bound as one parameter. On PostgreSQL `= ANY(:name)`, one
    array: the statement's text stays the same for every list, where an expanded IN is
    rendered, sent, parsed and planned anew per length (a feed's 120 related URLs cost more
    to send and plan than to run). SQLite has no arrays: its IN list is expanded."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(item)))
    return column.in_(bindparam(name, expanding=True))


def constant(value: str) -> ColumnElement[str]:
    """`value` written into the statement's text, not bound: a status that every feed read
    compares with. PostgreSQL plans a prepared statement for its parameters' values five
    times, then keeps a generic plan only if it costs no more than those; with the status a
    parameter, the generic plan of the catalog read guessed a third of all pieces withdrawn,
    so every render planned that statement anew (~0.2 ms). Only our own lowercase words."""
    if not value.isascii() or not value.replace("_", "").isalpha() or not value.islower():
        raise ValueError(f"not a constant word: {value!r}")
    return literal_column(f"'{value}'", String)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock up front, so two writers queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade.
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        # A file's pool sized as PostgreSQL's: SQLAlchemy's default (5 + 10) left a worker's 40
        # threads queueing for a connection (the catalog probe keeps one more, its own).
        sizing = {} if memory else {"pool_size": settings.db_pool_size,
                                    "max_overflow": THREADS_PER_WORKER}  # fmt: skip
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=NullPool if memory else None,
            json_deserializer=json_loads,
            **sizing,
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        # TimeZone=UTC: psycopg then answers timestamps with datetime.UTC itself (for a named
        # zone, even Etc/UTC, it answers a ZoneInfo that UTCDateTime has to convert).
        connect_args["options"] = with_options(
            url, f"-c statement_timeout={settings.db_statement_timeout_ms} -c TimeZone=UTC"
        )
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,  # kept open; bursts open more, closed when returned
        max_overflow=THREADS_PER_WORKER,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_deserializer=json_loads,
    )
    if url.get_backend_name() == "postgresql" and engine.dialect.driver == "psycopg":
        event.listen(engine, "do_execute", _execute)
        event.listen(engine, "do_execute_no_params", _execute_no_params)
        event.listen(engine, "do_executemany", _execute_many)
    return engine


# An execution option: the statement is planned for its own values on every run (see
# `_execute`). Set on the statements whose best plan depends on which licenses.
UNPREPARED = "syndication_unprepared"
# A connection's execution option (`read_snapshot`, psycopg only): the connection runs in
# autocommit, and the snapshot's BEGIN is sent with its first statement, in one round trip.
SNAPSHOT = "syndication_snapshot"
# An execution option of a snapshot's last read: its COMMIT is sent with it, in one round trip.
# The snapshot is over once it has run; a statement after it in the same session raises.
ENDS_SNAPSHOT = "syndication_ends_snapshot"
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
# An execution option (psycopg only): `Alongside(sql, parameters, into)`, a read sent in the
# same pipeline just before the statement, whose column names and rows `_execute` puts in
# `into` ("names", "rows"): two reads for one round trip.
ALONGSIDE = "syndication_alongside"


class Alongside(NamedTuple):
    sql: str  # as SQLAlchemy compiled it for this dialect (pyformat placeholders)
    parameters: dict[str, Any]
    into: dict[str, Any]


class SnapshotMisuse(RuntimeError):
    """A statement after the read that ended its snapshot (ENDS_SNAPSHOT), which would read a
    second snapshot of the database mixed with the first; a streamed read marked to end one;
    or an executemany in one."""


def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """psycopg's execution, for four options (else SQLAlchemy's own, answering False).

    UNPREPARED: psycopg prepares a statement at its sixth run on a connection, and
    PostgreSQL may then keep one generic plan for it, chosen for an average parameter. A
    feed's scan and its window-closure read take the licenses as parameters: warmed by
    partners holding common licenses, their generic plan walked the published_at index and
    filtered out every other piece (20,000 rows, ~8 ms) for a partner holding a rare one.
    Unprepared, each run is planned for its own licenses; against a statement that was
    planned for its values on every run anyway (the scan, mostly), it costs a parse.

    SNAPSHOT and ENDS_SNAPSHOT: each round trip to the server cost a cold render 0.2-0.3 ms
    here, more than most of its statements take to run. On a snapshot connection (autocommit,
    so psycopg sends no BEGIN of its own) the first statement goes in one pipeline with the
    snapshot's BEGIN, and the statement marked ENDS_SNAPSHOT with COMMIT: the server answers
    both at once. An error in either fails the statement, and the session rolls back.
    ALONGSIDE sends another read in the same pipeline, before the statement; it bypasses
    SQLAlchemy's cursor events and logging, and an error in it is reported with the
    statement's text.

    A server-side cursor (streamed results) is declared, never prepared, and takes no
    `prepare` and no pipeline: it is left to SQLAlchemy, after a BEGIN of its own; it cannot
    end a snapshot, whose transaction its later fetches need."""
    options = context.execution_options
    unprepared = options.get(UNPREPARED, False)
    alongside: Alongside | None = options.get(ALONGSIDE)
    connection = cursor.connection
    begin = end = False
    if options.get(SNAPSHOT, False):
        if getattr(connection, "_syndication_snapshot_over", False):
            raise SnapshotMisuse("a statement after the read that ended the snapshot")
        begin = connection.pgconn.transaction_status == TransactionStatus.IDLE
        end = options.get(ENDS_SNAPSHOT, False)
    if isinstance(cursor, ServerCursor):
        if end:  # its rows are fetched after the call, in the transaction
            raise SnapshotMisuse("a streamed read cannot end a snapshot")
        if alongside is not None:
            raise ValueError("a streamed read takes no read alongside")
        if begin:
            connection.execute(BEGIN_SNAPSHOT, prepare=False)
        return False
    if not (begin or end or alongside):
        if not unprepared:
            return False  # SQLAlchemy's own execute
        cursor.execute(statement, parameters, prepare=False)
        return True
    other = connection.cursor() if alongside is not None else None
    try:
        with connection.pipeline():
            if begin:
                connection.execute(BEGIN_SNAPSHOT, prepare=False)
            if other is not None and alongside is not None:
                other.execute(alongside.sql, alongside.parameters)
            cursor.execute(statement, parameters, prepare=False if unprepared else None)
            if end:
                connection.execute("COMMIT", prepare=False)
        if end:
            connection._syndication_snapshot_over = True
        if other is not None and alongside is not None:
            alongside.into["names"] = [column.name for column in other.description or ()]
            alongside.into["rows"] = other.fetchall()
    finally:
        if other is not None:
            other.close()
    return True


def _execute_no_params(cursor: Any, statement: str, context: Any) -> bool:
    return _execute(cursor, statement, None, context)


def _execute_many(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """A snapshot only reads. An executemany (a write's tool) has no place in it, and as its
    first statement it would run before the BEGIN, which only `_execute` sends."""
    if context.execution_options.get(SNAPSHOT, False):
        raise SnapshotMisuse("executemany in a read snapshot")
    return False


def with_options(url: URL, ours: str) -> str:
    """libpq `options` for a connection to `url`: the URL's own (`?options=-c ...`, which
    `ours` used to replace), then ours, which win where both set one parameter."""
    given = url.query.get("options")
    given = given[-1] if isinstance(given, tuple) else given
    return f"{given} {ours}" if given else ours


def libpq_url(url: URL) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq and its tools take it (no `+driver` suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def writer(engine: Engine) -> Engine:
    """The same engine and pool, whose transactions take SQLite's write lock when they begin."""
    return engine.execution_options(**{WRITE_OPTION: True})


def open_session(engine: Engine, write: bool) -> Session:
    return Session(writer(engine) if write else engine, expire_on_commit=False)


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Session]:
    """A session that only reads and sees one snapshot of the database in all its statements.

    SQLite's read transaction is one snapshot already. PostgreSQL's default, READ COMMITTED,
    takes a snapshot per statement: a write committed between a feed's licenses read and its
    scan, or between the scan and a read by id of the page's rest, would mix two states (a
    piece whose license changed in between would be rendered under terms the scan never
    checked, or fail the render). So on PostgreSQL the transaction is
    REPEATABLE READ READ ONLY: one snapshot, and no serialization failures for a reader. It
    ends with COMMIT, not the pool's ROLLBACK: psycopg forgets its prepared statements at
    every ROLLBACK and keeps them across COMMIT, so a worker's repeated reads are prepared
    after a few uses and skip parsing and planning. statement_timeout is set per connection
    (make_engine) and bounds each statement.

    With psycopg (an engine of `make_engine`, which installs `_execute`) the connection is in
    autocommit for the session and `_execute` sends the BEGIN with the first statement
    (SNAPSHOT); a read marked ENDS_SNAPSHOT takes the COMMIT with it, and must be the
    session's last. Any other engine sets the transaction's isolation on the connection."""
    with session_scope(engine, write=False) as session:
        if engine.dialect.name == "postgresql":
            # make_engine's hook, on the dialect that every engine.execution_options() copy
            # shares (event.contains asks of the very engine object only)
            if _execute in engine.dialect.dispatch.do_execute:
                connection = session.connection(
                    execution_options={"isolation_level": "AUTOCOMMIT", SNAPSHOT: True}
                )
                connection.connection.dbapi_connection._syndication_snapshot_over = False  # type: ignore[union-attr]
            else:
                snapshot = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
                session.connection(execution_options=snapshot)
        yield session


@contextmanager
def session_scope(engine: Engine, write: bool = True) -> Iterator[Session]:
    """A session committed when its block ends normally, rolled back when it raises. Reads
    use it too, not a bare `open_session` (whose close rolls back): on PostgreSQL psycopg
    forgets every prepared statement of the connection at a ROLLBACK, so a key check or a
    health check that rolled back made the next feed render on that connection parse and plan
    its statements again."""
    session = open_session(engine, write)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
