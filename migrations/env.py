"""Alembic environment: target SQLModel.metadata, batch mode for SQLite."""

from __future__ import annotations

from alembic import context

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
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
