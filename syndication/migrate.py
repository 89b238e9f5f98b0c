"""Alembic, driven from our Settings (the CLI, `serve` and the tests all come through here)."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from syndication.errors import DomainError
from syndication.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The PostgreSQL advisory lock a migration run holds (migrations/env.py): any fixed number.
MIGRATION_LOCK_KEY = 7_304_861_531


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
