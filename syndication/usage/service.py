"""Recording usage without slowing the answer: events are written after the response."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from syndication.db import writer


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 2.5 µs per pull
class Usage:
    kind: str  # feed_pull | bundle_download | pixel_hit
    partner_id: int
    at: datetime
    article_id: int | None = None
    format: str | None = None
    page: str | None = None
    times: int = 1  # how many pulls this row stands for (see UsageBuffer)


_COLUMNS = "kind, partner_id, article_id, format, page, at, times"
_SQLITE_INSERT = f"INSERT INTO usage_event ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_PAGES = "partner_page (partner_id, article_id, page, first_id)"
_PAGES_OF = (
    "SELECT partner_id, article_id, page, min(id) FROM {rows}"
    " WHERE kind = 'pixel_hit' AND page IS NOT NULL AND article_id IS NOT NULL{newer}"
    " GROUP BY partner_id, article_id, page"
)
# The events and the new pages they show, in one statement. Only pages not in the table yet
# are offered: a conflict locks the row even when it updates nothing, and every hit of a busy
# page would queue behind the others' commits. Two workers that write a new page's first hits
# at once still meet there; the page keeps the smaller id, whichever commits first.
_PG_UNNEST = (
    f"WITH written AS (INSERT INTO usage_event ({_COLUMNS}) SELECT * FROM unnest("
    "%s::varchar[], %s::integer[], %s::integer[], %s::varchar[], %s::varchar[], %s::timestamptz[],"
    " %s::integer[]) RETURNING id, kind, partner_id, article_id, page)"
    f" INSERT INTO {_PAGES} "
    + _PAGES_OF.format(
        rows="written",
        newer=" AND NOT EXISTS (SELECT 1 FROM partner_page AS known"
        " WHERE known.partner_id = written.partner_id AND known.article_id = written.article_id"
        " AND known.page = written.page)",
    )
    + " ORDER BY partner_id, article_id, page"  # rows locked in one order by every writer
    " ON CONFLICT (partner_id, article_id, page) DO UPDATE SET first_id = excluded.first_id"
    " WHERE excluded.first_id < partner_page.first_id"
)
# SQLite: one writer at a time, so the newest ids are this transaction's, in order.
_SQLITE_PAGES = (
    f"INSERT INTO {_PAGES} {_PAGES_OF.format(rows='usage_event', newer=' AND id > ?')}"
    " ON CONFLICT (partner_id, article_id, page) DO NOTHING"
)


def record(engine: Engine, events: Iterable[Usage]) -> None:
    """Write `events` in one transaction, with as little Python per row as each driver allows
    (a busy feed writes thousands of pulls a second, from a thread that holds the GIL while it
    builds them): SQLite, an executemany of plain tuples; PostgreSQL, one INSERT over arrays.
    The rest of a row's cost is the database's own (five B-trees, the WAL). The partner pages
    the pixel hits show (`PartnerPage`) are written with them: a page new to the table is a
    row more, a page seen before costs a primary-key lookup and takes no lock."""
    events = list(events)
    if not events:
        return
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"usage events on {dialect}")
    if dialect == "postgresql":
        # One statement whose parameters are arrays, one per column: psycopg adapts them in
        # C, where an executemany spent ~27 µs of Python per row with the GIL held (measured).
        columns = list(zip(*((e.kind, e.partner_id, e.article_id, e.format, e.page, e.at, e.times)
                             for e in events), strict=True))  # fmt: skip
        with writer(engine).begin() as conn:
            conn.exec_driver_sql(_PG_UNNEST, tuple(list(c) for c in columns))
        return
    tuples = [
        (e.kind, e.partner_id, e.article_id, e.format, e.page, _sqlite_at(e.at), e.times)
        for e in events
    ]
    pages = any(e.kind == "pixel_hit" and e.page for e in events)
    with writer(engine).begin() as conn:
        if pages:
            before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM usage_event").scalar()
        conn.exec_driver_sql(_SQLITE_INSERT, tuples)  # type: ignore[arg-type]
        if pages:
            conn.exec_driver_sql(_SQLITE_PAGES, (before,))


def _sqlite_at(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text for `moment` in UTC (isoformat: a fifth of strftime's
    cost, and it always gives the microseconds asked for)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
