"""Usage reports for staff (the JSON API and the dashboards): totals, events, pages seen.

Filters arrive as text and are checked here, so every caller gets the same 400 naming the
parameter; the queries return frozen dataclasses, not rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, true
from sqlalchemy.orm import Session
from sqlmodel import select

from syndication.articles.models import Article
from syndication.errors import DomainError
from syndication.partners.models import Partner
from syndication.usage.models import UsageEvent

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
KINDS = ("feed_pull", "bundle_download", "pixel_hit")
MAX_PAGES = 500


class BadParameter(DomainError):
    """A query parameter that does not parse (400, naming it)."""


@dataclass(frozen=True)
class UsageFilter:
    partner: str | None = None
    piece: str | None = None
    kind: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True)
class Totals:
    events: int
    by_kind: list[Count]
    by_partner: list[Count]
    by_piece: list[Count]


@dataclass(frozen=True)
class PageSeen:
    page: str
    partner: str
    count: int
    last_seen: datetime


@dataclass(frozen=True)
class PieceSeen:
    """The distinct pages (pixel Referers) that showed one piece, most-seen first."""

    piece: str
    pages: list[PageSeen]


@dataclass(frozen=True)
class EventRow:
    kind: str
    partner: str
    piece: str | None
    format: str | None
    page: str | None
    at: datetime
    times: int  # feed pulls: how many in that second; other events: 1


@dataclass(frozen=True)
class EventPage:
    items: list[EventRow]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class UsageReport:
    filters: UsageFilter
    totals: Totals
    seen_on: list[PieceSeen]
    events: EventPage


def parse_time(name: str, value: str | None) -> datetime | None:
    """RFC 3339 with an offset (`Z` or `+hh:mm`); anything else is refused."""
    if value is None or value == "":
        return None
    moment = None
    if RFC3339.match(value):
        try:
            moment = datetime.fromisoformat(value.upper().replace(" ", "T"))
        except ValueError:
            moment = None
    if moment is None:
        raise BadParameter(
            f"{value!r} is not an RFC 3339 timestamp with an offset, e.g. 2026-11-26T12:00:00Z",
            field=name,
        )
    return moment.astimezone(UTC)  # the API answers in UTC, filters included


def parse_filter(
    session: Session,
    *,
    partner: str | None = None,
    piece: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> UsageFilter:
    if kind and kind not in KINDS:
        raise BadParameter(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if partner and session.scalar(select(Partner.id).where(Partner.slug == partner)) is None:
        raise BadParameter(f"no partner {partner!r}", field="partner")
    if piece and session.scalar(select(Article.id).where(Article.slug == piece)) is None:
        raise BadParameter(f"no piece {piece!r}", field="piece")
    start, end = parse_time("since", since), parse_time("until", until)
    if start and end and end <= start:
        raise BadParameter("until must be later than since", field="until")
    return UsageFilter(partner or None, piece or None, kind or None, start, end)


def _where(f: UsageFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if f.partner:
        clauses.append(Partner.slug == f.partner)  # type: ignore[arg-type]
    if f.piece:
        clauses.append(Article.slug == f.piece)  # type: ignore[arg-type]
    if f.kind:
        clauses.append(UsageEvent.kind == f.kind)  # type: ignore[arg-type]
    if f.since:
        clauses.append(UsageEvent.at >= f.since)  # type: ignore[arg-type]
    if f.until:
        clauses.append(UsageEvent.at < f.until)  # type: ignore[arg-type]
    return and_(true(), *clauses)


def _joined(*columns: Any) -> Any:
    return (
        select(*columns)
        .select_from(UsageEvent)
        .join(Partner, Partner.id == UsageEvent.partner_id)  # type: ignore[arg-type]
        .outerjoin(Article, Article.id == UsageEvent.article_id)  # type: ignore[arg-type]
    )


def times_sum() -> Any:
    """How many events the rows stand for (a row of feed pulls counts each pull)."""
    return func.coalesce(func.sum(UsageEvent.times), 0)


def _counts(session: Session, f: UsageFilter, column: Any) -> list[Count]:
    n = times_sum()
    rows = session.execute(
        _joined(column, n)
        .where(_where(f), column.is_not(None))
        .group_by(column)
        .order_by(n.desc(), column)
    )
    return [Count(key, count) for key, count in rows]


def totals(session: Session, f: UsageFilter) -> Totals:
    return Totals(
        events=count(session, f),
        by_kind=_counts(session, f, UsageEvent.kind),
        by_partner=_counts(session, f, Partner.slug),
        by_piece=_counts(session, f, Article.slug),
    )


def pages_seen(
    session: Session,
    f: UsageFilter,
    limit: int = MAX_PAGES,
    pieces: Sequence[str] | None = None,
) -> list[PieceSeen]:
    """Where each piece (of `pieces`, when given) was seen, from the Referer of its pixel
    hits; at most `limit` pages."""
    n = func.count(UsageEvent.id)  # type: ignore[arg-type]
    query = _joined(Article.slug, UsageEvent.page, Partner.slug, n, func.max(UsageEvent.at))
    if pieces is not None:
        query = query.where(Article.slug.in_(pieces))  # type: ignore[attr-defined]
    rows = session.execute(
        query.where(_where(f), UsageEvent.page.is_not(None), Article.slug.is_not(None))  # type: ignore[union-attr,attr-defined]
        .group_by(Article.slug, UsageEvent.page, Partner.slug)
        .order_by(Article.slug, n.desc(), UsageEvent.page)
        .limit(limit)
    )
    grouped: dict[str, list[PageSeen]] = {}
    for piece, page, partner, hits, last_seen in rows:
        grouped.setdefault(piece, []).append(PageSeen(page, partner, hits, last_seen))
    return [PieceSeen(piece, pages) for piece, pages in grouped.items()]


def count(session: Session, f: UsageFilter) -> int:
    """How many events match (feed pulls each count, though a second's share one row)."""
    return int(session.scalar(_joined(times_sum()).where(_where(f))) or 0)


def rows(session: Session, f: UsageFilter) -> int:
    """How many rows `events` pages through."""
    return session.scalar(_joined(func.count(UsageEvent.id)).where(_where(f))) or 0  # type: ignore[arg-type]


def events(session: Session, f: UsageFilter, limit: int = 50, offset: int = 0) -> EventPage:
    total = rows(session, f)
    found = session.execute(
        _joined(
            UsageEvent.kind,
            Partner.slug,
            Article.slug,
            UsageEvent.format,
            UsageEvent.page,
            UsageEvent.at,
            UsageEvent.times,
        )
        .where(_where(f))
        .order_by(UsageEvent.at.desc(), UsageEvent.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(limit)
        .offset(offset)
    )
    return EventPage([EventRow(*row) for row in found], total, limit, offset)


def report(session: Session, f: UsageFilter, limit: int = 50, offset: int = 0) -> UsageReport:
    summary = totals(session, f)
    page = events(session, f, limit, offset)  # total: rows; summary.events: sum of times
    return UsageReport(f, summary, pages_seen(session, f), page)
