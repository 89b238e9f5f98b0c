"""The catalog version: one row bumped by every write partners could see.

Caches key on it, so a write in any worker or host is seen by the next request anywhere.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import BigInteger, Select, func, text, update
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select

from syndication.db import UTCDateTime, utcnow
from syndication.usage.models import UsageEvent


class CatalogState(SQLModel, table=True):
    __tablename__ = "catalog_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=1)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The newest usage event when the version moved. A partner's related links take its pages
    # first seen up to this one (`ledger.related_pages`), so that every worker and host renders
    # a version alike: a hit moves them at the next catalog write, not in one worker's cache.
    # Not exact on PostgreSQL: a usage batch whose ids were drawn before the bump but that
    # commits after it counts only for renders made after its commit (until the next write).
    usage_upto: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")}
    )


def _newest_usage() -> Select:
    return select(func.coalesce(func.max(UsageEvent.id), 0))


def bump(session: Session) -> None:
    """Move the version forward inside the caller's transaction."""
    newest = _newest_usage().scalar_subquery()
    # Never backwards: on PostgreSQL a bump that waited for another's row lock sets the version
    # from the row it then finds, but `newest` from its own, earlier snapshot.
    at_least = func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
    result = session.execute(
        update(CatalogState)
        .where(col(CatalogState.id) == 1)
        .values(
            version=CatalogState.version + 1,
            changed_at=utcnow(),
            usage_upto=at_least(CatalogState.usage_upto, newest),
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(CatalogState(id=1, version=2, usage_upto=session.scalar(_newest_usage())))


@lru_cache(maxsize=1)
def _current_query() -> Select:
    return select(col(CatalogState.version), col(CatalogState.changed_at))


def current(session: Session) -> tuple[int, datetime]:
    # Core, on the session's connection: the ORM execution path cost more than the read.
    row = session.connection().execute(_current_query()).first()
    return (row[0], row[1]) if row else (1, datetime.fromtimestamp(0).astimezone())
