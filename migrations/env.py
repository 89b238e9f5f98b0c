"""Alembic environment: target SQLModel.metadata, batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from syndication.db import make_engine
from syndication.settings import Settings, load_settings
from syndication.tables import metadata

config = context.config
url = config.attributes.get("database_url") or load_settings().database_url  # CLI use


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(Settings(database_url=url))
    try:
        with engine.connect() as connection:
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


def _pragma(connection: Connection, pragma: str) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA {pragma}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
