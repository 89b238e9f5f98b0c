"""A worker's PostgreSQL pool can grow to every thread that may hold a connection."""

from __future__ import annotations

import anyio
from anyio import to_thread

from syndication.db import make_engine
from syndication.settings import Settings


async def _thread_tokens() -> float:
    return to_thread.current_default_thread_limiter().total_tokens


def test_pool_grows_to_the_thread_limit() -> None:
    engine = make_engine(Settings(database_url="postgresql+psycopg://app@db.invalid/app"))
    pool = engine.pool
    assert pool.size() == 5  # SYNDICATION_DB_POOL_SIZE: kept open
    # Sync handlers and background tasks share anyio's threads; each may need a connection.
    assert pool._max_overflow >= anyio.run(_thread_tokens)  # type: ignore[attr-defined]
    assert engine.dialect.name == "postgresql"
