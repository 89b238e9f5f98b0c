"""Alembic environment: target SQLModel.metadata, batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from alembic.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import Connection

from syndication.db import make_engine
from syndication.migrate import NewerSchema, one_run_at_a_time
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
        with one_run_at_a_time(engine), engine.connect() as connection:
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
