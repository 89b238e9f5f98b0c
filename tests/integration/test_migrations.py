"""Migrations are code: head matches the models, and down to base and back up works."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from syndication import migrate
from syndication.db import make_engine
from syndication.settings import Settings
from syndication.tables import metadata


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


def test_head_matches_models(settings: Settings) -> None:
    assert _diff(settings) == []


def test_down_to_base_and_back(settings: Settings) -> None:
    migrate.downgrade(settings, "base")
    engine = make_engine(settings)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(settings)
    assert _diff(settings) == []
