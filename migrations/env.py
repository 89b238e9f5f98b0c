"""Alembic environment: target SQLModel.metadata, batch mode for SQLite."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from alembic.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from syndication.db import make_engine
from syndication.migrate import MIGRATION_LOCK_KEY, NewerSchema
from syndication.settings import Settings, load_settings
from syndication.tables import metadata

config = context.config
url = config.attributes.get("database_url") or load_settings().database_url  # CLI use


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


# PostgreSQL: a migration may run as long as it needs (an index over a large table), but waits
# at most this long for a lock: behind a queued ACCESS EXCLUSIVE request every request's reads
# of that table queue too, so a migration that cannot get its lock fails (run it again)
# rather than stall the workers still serving. Each migration commits on its own, so no lock
# is held beyond the one that needs it. Both are SET LOCAL, in each migration's transaction:
# behind PgBouncer the connection's options are not passed on, and a session's SET would stay
# on a server connection that the app's requests use next.
LOCK_TIMEOUT = "3s"
# PostgreSQL: one migration run at a time on a database (MIGRATION_LOCK_KEY). Hosts started
# together each run `serve`, which upgrades first; without it, their runs created the same
# tables at once and all but one failed (a duplicate key in pg_type).
LOCK_POLL_S = 0.5


def _postgres_limits(connection: Connection) -> None:
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def run_migrations_online() -> None:
    # No statement timeout from the connection either (SET LOCAL is ignored in an Alembic
    # autocommit block, where a CREATE INDEX CONCURRENTLY would run).
    engine = make_engine(Settings(database_url=url, db_statement_timeout_ms=0))
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_limits)
    try:
        with _one_run_at_a_time(engine), engine.connect() as connection:
            if config.attributes.get("refuse_unknown_revisions"):  # upgrades (migrate.py)
                _refuse_unknown_revisions(connection)  # under the lock: as the run finds it
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode rebuilds a table (copy, DROP, rename), and with foreign keys
                # enforced the DROP deletes every row referencing it (ON DELETE CASCADE): a
                # rebuild of staff_user emptied staff_token. The pragma only takes effect
                # outside a transaction, so it goes to the driver before the migrations' one;
                # foreign_key_check then refuses to commit a run that broke a reference.
                _pragma(connection, "foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=True,
                compare_type=True,
                # SQLite: one transaction, so foreign_key_check can still refuse it all.
                transaction_per_migration=not sqlite,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            if sqlite:
                _pragma(connection, "foreign_keys=ON")
    finally:
        engine.dispose()


@contextmanager
def _one_run_at_a_time(engine: Engine) -> Iterator[None]:
    """PostgreSQL: holds the migration lock for the block, a transaction-level advisory lock
    in a transaction of its own on a connection of its own, so that it spans every
    migration's own transaction. (A session-level lock would be taken and released on two
    different server connections behind PgBouncer in transaction mode, and held for good by
    whichever.) A run started meanwhile tries again every LOCK_POLL_S, outside any
    transaction: a waiter blocked inside a statement would hold a snapshot, which a CREATE
    INDEX CONCURRENTLY of the running migration waits for, unseen by the deadlock detector.
    Once it has the lock, it finds the database at head and has nothing to do. The lock goes
    with the transaction if this process dies. Other databases: nothing to take."""
    if engine.dialect.name != "postgresql":
        yield
        return
    # READ COMMITTED whatever the role's default: a snapshot kept all run (REPEATABLE READ)
    # would be one that a CREATE INDEX CONCURRENTLY of the run's own waits for.
    with engine.connect().execution_options(isolation_level="READ COMMITTED") as holder:
        said = False
        while True:
            held = holder.begin()
            if holder.exec_driver_sql(
                f"SELECT pg_try_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ).scalar():
                break
            held.rollback()
            if not said:
                print("syndication: waiting for another migration run to end", file=sys.stderr)
                said = True
            time.sleep(LOCK_POLL_S)
        with held:  # committed, or rolled back on an error: either releases the lock
            # Idle in this transaction for the whole run: a role's idle (or, from PostgreSQL
            # 17, transaction) timeout would end it, and the lock with it.
            holder.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
            if (holder.dialect.server_version_info or (0,)) >= (17,):
                holder.exec_driver_sql("SET LOCAL transaction_timeout = 0")
            yield


def _refuse_unknown_revisions(connection: Connection) -> None:
    """A database at a revision this release does not have (most likely a newer release
    migrated it) is left as it is: NewerSchema (`serve` then serves on it without migrating)."""
    known = {script.revision for script in context.script.walk_revisions()}
    current = MigrationContext.configure(connection).get_current_heads()
    connection.rollback()  # the read's transaction; the migrations begin their own
    unknown = sorted(set(current) - known)
    if unknown:
        raise NewerSchema(
            f"the database is at {', '.join(unknown)}, a revision this release does not have "
            "(most likely a newer release migrated it: run that release's `syndication db "
            "upgrade` or `serve`)"
        )


def _pragma(connection: Connection, pragma: str) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA {pragma}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
