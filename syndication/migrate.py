"""Alembic, driven from our Settings (the CLI, `serve` and the tests all come through here)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from syndication.errors import DomainError
from syndication.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# PostgreSQL: one migration run at a time on a database, under an advisory lock (any fixed
# number). Hosts started together each run `serve`, which upgrades first; without it, their
# runs created the same tables at once and all but one failed (a duplicate key in pg_type).
MIGRATION_LOCK_KEY = 7_304_861_531
LOCK_POLL_S = 0.5


class NewerSchema(DomainError):
    """The database is at a revision this release does not have: most likely a newer release
    migrated it. Raised by migrations/env.py, under the migration lock."""


def alembic_config(settings: Settings) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = settings.database_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """NewerSchema (from migrations/env.py) for a database at a revision this release lacks.
    Only upgrades check: Alembic's own `stamp --purge`, `current` and downgrades do not."""
    config = alembic_config(settings)
    config.attributes["refuse_unknown_revisions"] = True
    command.upgrade(config, revision)


def upgrade_to_serve(settings: Settings) -> None:
    """`serve`'s upgrade to head. A database already past this release's head (a newer
    release upgraded it during a roll) is left as it is, and this release serves on it as
    its workers that were still running do: a host of the previous release that restarted
    mid-roll would otherwise fail to start."""
    try:
        upgrade(settings)
    except NewerSchema as newer:
        print(f"syndication: not migrating: {newer.detail}", file=sys.stderr)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


@contextmanager
def one_run_at_a_time(engine: Engine) -> Iterator[None]:
    """PostgreSQL: holds the migration lock for the block (migrations/env.py takes it around
    a run): a transaction-level advisory lock, in a transaction of its own on a connection of
    its own, so that it spans every migration's own transaction. (A session-level lock would
    be taken and released on two different server connections behind PgBouncer in
    transaction mode, and held for good by whichever.) A run started meanwhile tries again
    every LOCK_POLL_S, outside any transaction: a waiter blocked inside a statement would
    hold a snapshot, which a CREATE INDEX CONCURRENTLY of the running migration waits for,
    unseen by the deadlock detector. Once it has the lock, it finds the database at head and
    has nothing to do. The lock goes with the transaction if this process dies. Other
    databases: nothing to take."""
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
