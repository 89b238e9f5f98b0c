"""Which pieces are on a page of a partner's feed: SQL narrows, `decide` confirms every row.

The scan reads only the columns `decide` needs (never the body), in the feed's order
(published_at desc, id desc), on the (license[, section], published_at) indexes; bodies
are loaded afterwards for the page alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from syndication.articles.models import Article
from syndication.feeds.query import Cursor, FeedQuery
from syndication.licensing.candidates import TOMBSTONE_DAYS, listing_clause, tombstone_clause
from syndication.licensing.entitlement import Decision, PartnerFacts, Verdict, decide
from syndication.licensing.models import License

MAX_TOMBSTONES = 100
_FACTS = (
    col(Article.id),
    col(Article.status),
    col(Article.section),
    col(Article.license),
    col(Article.published_at),
    col(Article.embargo_until),
)


@dataclass(frozen=True)
class Page:
    rows: tuple[tuple[int, datetime, Decision], ...]  # (id, published_at, decision), in order
    more_after: bool  # an older page exists
    more_before: bool  # a newer page exists (only known when reading backwards)
    changes_at: datetime | None  # the first moment any scanned row's answer changes


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _filters(query: FeedQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.section is not None:
        found.append(col(Article.section) == query.section)
    if query.since is not None:
        found.append(col(Article.updated_at) >= query.since)
    return found


def _position(cursor: Cursor) -> ColumnElement[bool]:
    at, ident = cursor.published_at, cursor.id
    if cursor.older:
        return or_(
            col(Article.published_at) < at,
            and_(col(Article.published_at) == at, col(Article.id) < ident),
        )
    return or_(
        col(Article.published_at) > at,
        and_(col(Article.published_at) == at, col(Article.id) > ident),
    )


def scan_page(
    session: Session,
    partner: PartnerFacts,
    granted: Sequence[str],
    licenses: dict[str, License],
    query: FeedQuery,
    now: datetime,
) -> Page:
    """Up to `query.limit` entitled pieces at the query's position, confirmed by `decide`."""
    where = [listing_clause(partner, granted, licenses.values(), now), *_filters(query)]
    backwards = query.cursor is not None and not query.cursor.older
    order = (
        (col(Article.published_at).asc(), col(Article.id).asc())
        if backwards
        else (col(Article.published_at).desc(), col(Article.id).desc())
    )
    position = query.cursor
    found: list[tuple[int, datetime, Decision]] = []
    changes_at: datetime | None = None
    batch = query.limit + 1
    # Core execution on the session's connection: these are plain column rows, and the ORM
    # execution path (autoflush, ORM loading) cost more than the SQL itself.
    connection = session.connection()
    while len(found) <= query.limit:
        clauses = [*where, _position(position)] if position else where
        statement = select(*_FACTS).where(*clauses).order_by(*order).limit(batch)
        rows = connection.execute(statement).all()
        for row in rows:
            decision = decide(partner, granted, row, licenses[row.license], now)
            changes_at = _earliest(changes_at, decision.changes_at)
            if decision.verdict is Verdict.ENTITLED:
                found.append((row.id, row.published_at, decision))
                if len(found) > query.limit:
                    break
        if len(rows) < batch:
            break
        last = rows[-1]
        position = Cursor(older=not backwards, published_at=last.published_at, id=last.id)
        batch = min(batch * 2, 1000)
    more = len(found) > query.limit
    page = found[: query.limit]
    if backwards:
        page.reverse()
    return Page(
        rows=tuple(page),
        more_after=(not backwards and more) or (backwards and bool(page)),
        more_before=(backwards and more) or (query.cursor is not None and not backwards),
        changes_at=changes_at,
    )


_TOMBSTONE_FACTS = (
    *_FACTS,
    col(Article.created_at),
    col(Article.headline),
    col(Article.canonical_url),
    col(Article.withdrawn_at),
    col(Article.withdrawal_reason),
)


@dataclass(frozen=True)
class Withdrawal:
    article: Any  # a row with _TOMBSTONE_FACTS
    license: License


def tombstones(
    session: Session,
    partner: PartnerFacts,
    granted: Sequence[str],
    licenses: dict[str, License],
    query: FeedQuery,
    now: datetime,
) -> tuple[list[Withdrawal], datetime | None]:
    """Pieces withdrawn in the last 30 days that `decide` answers WITHDRAWN for, and when
    the oldest of them ages out of the feed."""
    where = [tombstone_clause(partner, granted, licenses.values(), now)]
    if query.section is not None:
        where.append(col(Article.section) == query.section)
    if query.since is not None:
        where.append(col(Article.withdrawn_at) >= query.since)
    articles = (
        session.connection()
        .execute(  # Core rows, as in scan_page
            select(*_TOMBSTONE_FACTS)
            .where(*where)
            .order_by(col(Article.withdrawn_at).desc(), col(Article.id).desc())
            .limit(MAX_TOMBSTONES)
        )
        .all()
    )
    kept = [
        Withdrawal(a, licenses[a.license])
        for a in articles
        if decide(partner, granted, a, licenses[a.license], now).verdict is Verdict.WITHDRAWN
    ]
    keep = timedelta(days=TOMBSTONE_DAYS)
    ages_out = _earliest(*(w.article.withdrawn_at + keep for w in kept if w.article.withdrawn_at))
    return kept, ages_out


def last_closure(session: Session, licenses: dict[str, License], now: datetime) -> datetime | None:
    """The latest moment ≤ now at which a license window closed on some piece: the feed
    changed then although nothing was written (Last-Modified must not predate it)."""
    latest: datetime | None = None
    for lic in licenses.values():
        if lic.window_days is None:
            continue
        span = timedelta(days=lic.window_days)
        newest = session.scalar(
            select(func.max(col(Article.published_at))).where(
                col(Article.license) == lic.code,
                col(Article.status) == "published",
                col(Article.published_at) <= now - span,
            )
        )
        if newest is not None and (latest is None or newest + span > latest):
            latest = newest + span
    return latest
