"""Alembic, driven from our Settings (the CLI, `serve` and the tests all come through here)."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from syndication.db import make_engine
from syndication.errors import DomainError
from syndication.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


class NewerSchema(DomainError):
    """The database is at a revision this release does not have: a newer release upgraded it."""


def alembic_config(settings: Settings) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = settings.database_url
    return config


def unknown_revisions(settings: Settings) -> list[str]:
    """The database's revisions that this release's migrations do not contain (none for an
    empty database or one at or behind this release's head)."""
    scripts = ScriptDirectory.from_config(alembic_config(settings))
    known = {script.revision for script in scripts.walk_revisions()}
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return sorted(set(current) - known)


def upgrade(settings: Settings, revision: str = "head") -> None:
    newer = unknown_revisions(settings)
    if newer:
        raise NewerSchema(
            f"the database is at {', '.join(newer)}, which this release does not know: a newer "
            "release has upgraded it (run that release's `syndication db upgrade` or `serve`)"
        )
    command.upgrade(alembic_config(settings), revision)


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
