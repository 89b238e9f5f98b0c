"""Recording usage without slowing the answer: events are written after the response."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
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
    rows = [asdict(e) for e in events]
    if not rows:
        return
    with session_scope(engine) as session:
        session.execute(insert(UsageEvent), rows)
