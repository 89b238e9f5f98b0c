"""The catalog version: one row bumped by every write partners could see.

Caches key on it, so a write in any worker or host is seen by the next request anywhere.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import Select, update
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select

from syndication.db import UTCDateTime, utcnow


class CatalogState(SQLModel, table=True):
    __tablename__ = "catalog_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=1)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def bump(session: Session) -> None:
    """Move the version forward inside the caller's transaction."""
    result = session.execute(
        update(CatalogState)
        .where(col(CatalogState.id) == 1)
        .values(version=CatalogState.version + 1, changed_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(CatalogState(id=1, version=2))


@lru_cache(maxsize=1)
def _current_query() -> Select:
    return select(col(CatalogState.version), col(CatalogState.changed_at))


def current(session: Session) -> tuple[int, datetime]:
    # Core, on the session's connection: the ORM execution path cost more than the read.
    row = session.connection().execute(_current_query()).first()
    return (row[0], row[1]) if row else (1, datetime.fromtimestamp(0).astimezone())
