"""A worker's pool, PostgreSQL's or a SQLite file's, can grow to every thread that may hold a
connection; SYNDICATION_DB_POOL_SIZE is at least 1 (SQLAlchemy takes 0 for no limit)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from anyio import to_thread

from syndication.db import make_engine
from syndication.settings import SettingError, Settings, load_settings


async def _thread_tokens() -> float:
    return to_thread.current_default_thread_limiter().total_tokens


def test_pool_grows_to_the_thread_limit() -> None:
    engine = make_engine(Settings(database_url="postgresql+psycopg://app@db.invalid/app"))
    pool = engine.pool
    assert pool.size() == 5  # SYNDICATION_DB_POOL_SIZE: kept open
    # Sync handlers and background tasks share anyio's threads; each may need a connection.
    assert pool._max_overflow >= anyio.run(_thread_tokens)  # type: ignore[attr-defined]
    assert engine.dialect.name == "postgresql"


def test_a_sqlite_files_pool_grows_to_the_thread_limit(tmp_path: Path) -> None:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", db_pool_size=7))
    try:
        assert engine.pool.size() == 7
        assert engine.pool._max_overflow >= anyio.run(_thread_tokens)  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_the_pool_size_setting_must_be_at_least_one(tmp_path: Path) -> None:
    base = {"SYNDICATION_SECRET_KEY": "x", "SYNDICATION_DATABASE_URL": "sqlite:///x.db"}
    with pytest.raises(SettingError, match="SYNDICATION_DB_POOL_SIZE must be at least 1"):
        load_settings({**base, "SYNDICATION_DB_POOL_SIZE": "0"}, cwd=tmp_path)
    assert load_settings({**base, "SYNDICATION_DB_POOL_SIZE": "1"}, cwd=tmp_path).db_pool_size == 1
