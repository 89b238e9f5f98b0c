"""Migrations are code: head matches the models, and down to base and back up works."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import OperationalError

from syndication import migrate
from syndication.db import make_engine
from syndication.settings import Settings
from syndication.tables import metadata
from tests.conftest import POSTGRES_URL, scratch_postgres


def _diff(settings: Settings) -> list:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _partner(conn: Connection) -> None:
    """A partner row written with plain SQL, as of any revision since 0001."""
    conn.execute(text(
        "INSERT INTO partner (slug, name, audience, sees_embargoed, active, created_at,"
        " updated_at) VALUES ('p', 'P', 1, false, true, :at, :at)"
    ), {"at": "2026-11-27 12:00:00"})  # fmt: skip


def test_head_matches_models(settings: Settings) -> None:
    assert _diff(settings) == []


def test_down_to_base_and_back(settings: Settings) -> None:
    migrate.downgrade(settings, "base")
    engine = make_engine(settings)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(settings)
    assert _diff(settings) == []


def test_usage_upto_counts_every_hit_recorded_before_the_upgrade(settings: Settings) -> None:
    """0008 sets the catalog's usage_upto to the newest usage event, so related links that
    already followed a partner's pixel hits keep doing so after the upgrade."""
    migrate.downgrade(settings, "0007_tombstone_index")
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            _partner(conn)
            partner = conn.execute(text("SELECT id FROM partner")).scalar_one()
            for _ in range(3):
                conn.execute(text(
                    "INSERT INTO usage_event (kind, partner_id, at, times)"
                    " VALUES ('pixel_hit', :p, :at, 1)"
                ), {"p": partner, "at": "2026-11-27 12:00:00"})  # fmt: skip
            newest = conn.execute(text("SELECT max(id) FROM usage_event")).scalar_one()
        migrate.upgrade(settings)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT usage_upto FROM catalog_state")).scalar_one() == newest
    finally:
        engine.dispose()


def test_a_downgrade_and_upgrade_keep_the_rows_of_child_tables(settings: Settings) -> None:
    """SQLite's batch mode rebuilds a table (copy, DROP, rename); with foreign keys enforced
    the DROP deleted every row that references it by ON DELETE CASCADE. 0004's downgrade
    rebuilds staff_user: its staff tokens must survive, both ways."""
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO staff_user (email, password_hash, created_at, session_epoch)"
                " VALUES ('a@example.org', 'x', :at, 0)"
            ), {"at": "2026-11-27 12:00:00"})  # fmt: skip
            user = conn.execute(text("SELECT id FROM staff_user")).scalar_one()
            conn.execute(text(
                "INSERT INTO staff_token (user_id, prefix, token_hash, created_at)"
                " VALUES (:u, 'p', 'h', :at)"
            ), {"u": user, "at": "2026-11-27 12:00:00"})  # fmt: skip
        migrate.downgrade(settings, "0003_accountability")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM staff_token")).scalar_one() == 1
        migrate.upgrade(settings)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM staff_token")).scalar_one() == 1
            # and foreign keys are enforced again on the app's connections
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()
    assert _diff(settings) == []


def test_a_migration_waits_for_a_lock_no_longer_than_its_lock_timeout(
    settings: Settings,
) -> None:
    """PostgreSQL: behind a migration queued for an ACCESS EXCLUSIVE lock, every read of that
    table queues too; so a migration gives up after a few seconds (run it again) instead of
    stalling the workers still serving. 0008 alters catalog_state, which each pull reads."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: its lock queue")
    migrate.downgrade(settings, "0007_tombstone_index")
    engine = make_engine(settings)
    try:
        with engine.connect() as reader:
            reader.execute(text("SELECT version FROM catalog_state")).all()  # a render, open
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                migrate.upgrade(settings)
            assert time.monotonic() - started < 10
            reader.rollback()
        migrate.upgrade(settings)  # once the lock is free
    finally:
        engine.dispose()
    assert _diff(settings) == []


def test_partner_pages_start_from_the_hits_recorded_before_the_upgrade(
    settings: Settings,
) -> None:
    """0011 fills partner_page from the pixel hits with a page: one row per (partner, piece,
    page), with its first hit."""
    migrate.downgrade(settings, "0010_wide_delivery_ids")
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            _partner(conn)
            conn.execute(text(
                "INSERT INTO license (code, name, url, summary, terms, credit_line,"
                " contact_email, min_audience, allows_modification, allows_commercial,"
                " requires_canonical, requires_pixel, credit_placement, created_at, updated_at)"
                " VALUES ('l', 'L', 'https://x.example/l', '', '', 'c', 'a@x.example', 0,"
                " false, false, false, false, 'bottom', :at, :at)"
            ), {"at": "2026-11-27 12:00:00"})  # fmt: skip
            conn.execute(text(
                "INSERT INTO article (slug, headline, summary, body_html, byline, section, tags,"
                " copyright_holder, canonical_url, license, published_at, source_credits,"
                " related, images, corrections, status, revision, created_at, updated_at)"
                " VALUES ('a', 'A', '', '<p>b</p>', '', 'news', '[]', 'H', 'https://x.example/a',"
                " 'l', :at, '[]', '[]', '[]', '[]', 'published', 1, :at, :at)"
            ), {"at": "2026-11-27 12:00:00"})  # fmt: skip
            partner = conn.execute(text("SELECT id FROM partner")).scalar_one()
            article = conn.execute(text("SELECT id FROM article")).scalar_one()
            for minute, kind, page in [
                (1, "pixel_hit", "https://p.example/a"),
                (2, "pixel_hit", "https://p.example/a"),
                (3, "pixel_hit", None),
                (4, "bundle_download", None),
                (5, "pixel_hit", "https://p.example/b"),
            ]:
                conn.execute(text(
                    "INSERT INTO usage_event (kind, partner_id, article_id, page, at, times)"
                    " VALUES (:kind, :p, :a, :page, :at, 1)"
                ), {"kind": kind, "p": partner, "a": article, "page": page,
                    "at": f"2026-11-27 12:0{minute}:00"})  # fmt: skip
            first = dict(conn.execute(text(
                "SELECT page, min(id) FROM usage_event WHERE page IS NOT NULL GROUP BY page"
            )).all())  # type: ignore[arg-type]  # fmt: skip
        migrate.upgrade(settings)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT partner_id, article_id, page, first_id FROM partner_page ORDER BY page"
            )).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [
            (partner, article, "https://p.example/a", first["https://p.example/a"]),
            (partner, article, "https://p.example/b", first["https://p.example/b"]),
        ]
    finally:
        engine.dispose()
    assert _diff(settings) == []


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty database of its own on the test server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("SYNDICATION_TEST_POSTGRES_URL is not set (see .ci/run)")
    with scratch_postgres("syndication_race") as url:
        yield url


def test_hosts_started_together_migrate_one_at_a_time(fresh_postgres: str) -> None:
    """Each host's `serve` upgrades first. Three upgrades started at once on an empty
    PostgreSQL database all succeed: they take turns, and the later ones find it at head.
    Without the migration lock two of the three failed (a duplicate key in pg_type)."""
    script = Path(sys.executable).parent / "syndication"
    env = {**os.environ, "SYNDICATION_DATABASE_URL": fresh_postgres}
    command = [str(script), "db", "upgrade"]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-2000:].decode(errors="replace")
    assert _diff(Settings(database_url=fresh_postgres)) == []


def test_a_run_waits_for_the_lock_without_a_snapshot_then_checks_the_revision(
    settings: Settings, engine: Engine
) -> None:
    """PostgreSQL, a run started while another holds the migration lock:
    - it waits outside any statement, so the running migration's CREATE INDEX CONCURRENTLY
      (which waits for every older snapshot) is not held up by it;
    - it reads the revision once it has the lock, so a newer release that migrated the
      database meanwhile gets the one-line refusal, not Alembic's "Can't locate revision"."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: its advisory lock")
    from tests.revisions import NEWER, revision

    own = revision(engine)
    script = Path(sys.executable).parent / "syndication"
    env = {**os.environ, "SYNDICATION_DATABASE_URL": settings.database_url}
    waiter: subprocess.Popen[str] | None = None
    try:
        with engine.connect() as other_run:
            other_run.exec_driver_sql(f"SELECT pg_advisory_xact_lock({migrate.MIGRATION_LOCK_KEY})")
            waiter = subprocess.Popen(
                [str(script), "db", "upgrade"], env=env, stderr=subprocess.PIPE, text=True
            )
            assert waiter.stderr is not None
            lines: queue.Queue[str] = queue.Queue()
            stderr = waiter.stderr
            reader = threading.Thread(target=lambda: [lines.put(x) for x in stderr], daemon=True)
            reader.start()
            deadline = time.monotonic() + 60
            while "waiting for another migration run" not in lines.get(timeout=60):
                assert time.monotonic() < deadline  # a warning or two may come first
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ddl:
                ddl.exec_driver_sql("SET statement_timeout = '10s'")  # a hang fails, not stalls
                ddl.exec_driver_sql("CREATE INDEX CONCURRENTLY ix_probe ON partner (name)")
                ddl.exec_driver_sql("DROP INDEX ix_probe")
            other_run.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{NEWER}'")
            other_run.commit()  # the other run ends, at a revision this release lacks
        waiter.wait(timeout=60)
        reader.join(timeout=10)  # every line read (the pipe's end) before looking at the last
        rest = []
        while not lines.empty():
            rest.append(lines.get())
        assert waiter.returncode == 1, rest
        assert rest[-1].startswith(f"syndication: the database is at {NEWER}, a revision"), rest
    finally:  # the shared test database as it was, whatever failed
        if waiter is not None and waiter.poll() is None:
            waiter.kill()
            waiter.wait()
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX IF EXISTS ix_probe")  # a failed one stays INVALID
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{own}'")


def test_alembic_stamp_purge_still_repairs_an_unknown_revision(
    settings: Settings, engine: Engine
) -> None:
    """Only upgrades refuse a revision this release lacks: Alembic's own repair of a database
    stamped by hand, `stamp --purge`, still works."""
    from alembic import command

    from tests.revisions import newer_schema, revision

    head = revision(engine)
    with newer_schema(engine):
        command.stamp(migrate.alembic_config(settings), "head", purge=True)
        assert revision(engine) == head


def test_the_lock_keeps_no_snapshot_under_a_repeatable_read_default(fresh_postgres: str) -> None:
    """The lock's transaction lasts the whole run; under a role's or database's REPEATABLE
    READ default it would keep its first snapshot all along, and a CREATE INDEX
    CONCURRENTLY of the run's own would wait for it for good. It reads READ COMMITTED."""
    assert POSTGRES_URL
    name = make_url(fresh_postgres).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        default = "SET default_transaction_isolation = 'repeatable read'"
        conn.execute(text(f'ALTER DATABASE "{name}" {default}'))
    admin.dispose()
    settings = Settings(database_url=fresh_postgres)
    migrate.upgrade(settings)
    engine = make_engine(settings)
    try:
        autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with migrate.one_run_at_a_time(engine), autocommit as ddl:
            shown = ddl.exec_driver_sql("SHOW default_transaction_isolation").scalar()
            assert shown == "repeatable read"
            ddl.exec_driver_sql("SET statement_timeout = '10s'")  # a hang fails, not stalls
            ddl.exec_driver_sql("CREATE INDEX CONCURRENTLY ix_probe ON partner (name)")
    finally:
        engine.dispose()
