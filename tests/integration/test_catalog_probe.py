"""The per-request catalog-version read: sees every commit at once, holds no transaction open
on PostgreSQL, and survives its connection being dropped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from syndication import catalog
from syndication.db import make_engine, session_scope, with_options
from syndication.feeds.runtime import CatalogProbe
from syndication.settings import Settings


def test_probe_sees_each_commit_at_once(engine: Engine) -> None:
    probe = CatalogProbe(engine)
    try:
        first = probe.read()
        with session_scope(engine) as session:
            catalog.bump(session)
        assert probe.read() == first + 1
    finally:
        probe.close()


def test_the_request_path_read_sees_each_commit_at_once(engine: Engine) -> None:
    async def scenario() -> None:
        probe = CatalogProbe(engine)
        try:
            first = await probe.version()
            with session_scope(engine) as session:
                catalog.bump(session)
            assert await probe.version() == first + 1
        finally:
            probe.close()

    asyncio.run(scenario())


def test_postgres_request_path_read_survives_a_dropped_connection(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's probe is a file handle")

    async def scenario() -> None:
        probe = CatalogProbe(engine)
        try:
            version = await probe.version()
            pid = probe._shared._wire.pgconn.backend_pid  # type: ignore[union-attr]
            with engine.connect() as conn:
                state = conn.execute(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar_one()
                assert state == "idle"  # autocommit: no snapshot kept between requests
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert await probe.version() == version  # one retry on a fresh connection
            wire = probe._shared._wire  # type: ignore[union-attr]
            assert wire is not None and wire.pgconn.backend_pid != pid  # type: ignore[attr-defined]
        finally:
            probe.close()

    asyncio.run(scenario())


def test_postgres_request_path_read_fails_cleanly_when_the_server_refuses(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    nowhere = create_engine(engine.url.set(database="syndication_no_such_database"))

    async def scenario() -> None:
        probe = CatalogProbe(nowhere)
        try:
            with pytest.raises(psycopg.OperationalError, match="syndication_no_such_database"):
                await probe.version()
            assert probe._shared is not None and probe._shared._wire is None  # nothing half-open
        finally:
            probe.close()

    asyncio.run(scenario())
    nowhere.dispose()


def _sqlite_statements(probe: CatalogProbe) -> list[str]:
    """Every statement the probe's own SQLite connection runs from now on."""
    seen: list[str] = []
    probe._raw.driver_connection.set_trace_callback(seen.append)
    return seen


@pytest.fixture
def sqlite_probe(engine: Engine) -> Iterator[CatalogProbe]:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: the wal-index header")
    probe = CatalogProbe(engine)
    yield probe
    probe.close()


def test_sqlite_probe_queries_only_after_a_commit(
    engine: Engine, sqlite_probe: CatalogProbe
) -> None:
    first = sqlite_probe.read()
    queries = _sqlite_statements(sqlite_probe)
    assert [sqlite_probe.read() for _ in range(3)] == [first] * 3
    assert queries == []  # nothing committed: the header answered
    with session_scope(engine) as session:
        catalog.bump(session)
    assert sqlite_probe.read() == first + 1
    assert sqlite_probe.read() == first + 1
    assert len(queries) == 1


def test_sqlite_probe_sees_a_commit_from_another_process(
    engine: Engine, sqlite_probe: CatalogProbe
) -> None:
    first = sqlite_probe.read()
    sqlite_probe.read()
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        "c.execute('UPDATE catalog_state SET version = version + 5'); c.commit()"
    )
    subprocess.run([sys.executable, "-c", script, engine.url.database], check=True)
    assert sqlite_probe.read() == first + 5


def test_sqlite_probe_queries_every_time_without_a_wal_index(sqlite_probe: CatalogProbe) -> None:
    first = sqlite_probe.read()
    sqlite_probe._wal = None  # as for an in-memory database
    queries = _sqlite_statements(sqlite_probe)
    assert [sqlite_probe.read() for _ in range(2)] == [first] * 2
    assert len(queries) == 2


def test_postgres_keeps_the_urls_own_options(engine: Engine) -> None:
    """`?options=-c ...` in the database URL (a search_path, an application_name) reaches the
    pool's and the probe's connections beside ours; ours replaced it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: libpq options")
    url = engine.url.update_query_dict({"options": "-c application_name=from-the-url"})
    settings = Settings(database_url=url.render_as_string(hide_password=False))
    own = make_engine(settings)

    async def probed() -> str:
        probe = CatalogProbe(own)
        try:
            await probe.version()
            pid = probe._shared._wire.pgconn.backend_pid  # type: ignore[union-attr]
            with own.connect() as conn:
                return str(conn.execute(
                    text("SELECT application_name FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": pid},
                ).scalar_one())  # fmt: skip
        finally:
            probe.close()

    try:
        with own.connect() as conn:
            setting = text("SELECT setting FROM pg_settings WHERE name = :name")
            names = ("application_name", "statement_timeout", "TimeZone")
            shown = [conn.execute(setting, {"name": n}).scalar_one() for n in names]
        assert shown == ["from-the-url", str(settings.db_statement_timeout_ms), "UTC"]
        assert asyncio.run(probed()) == "from-the-url"
    finally:
        own.dispose()


def test_options_put_the_urls_first_and_ours_after() -> None:
    ours = "-c statement_timeout=5"
    assert with_options(make_url("postgresql://h/d"), ours) == ours
    given = make_url("postgresql://h/d?options=-c%20search_path%3Dsyn")
    assert with_options(given, ours) == "-c search_path=syn -c statement_timeout=5"
