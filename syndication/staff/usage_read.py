"""Read-only usage and registry figures for the staff dashboard (typed, small, no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, cast, exists, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from syndication.articles.models import Article
from syndication.partners.models import Partner
from syndication.usage.models import UsageEvent
from syndication.usage.reports import times_sum


@dataclass(frozen=True)
class DayCount:
    day: date
    kind: str
    count: int


@dataclass(frozen=True)
class PartnerCount:
    partner: str
    kind: str
    count: int


@dataclass(frozen=True)
class PieceCount:
    slug: str
    headline: str
    kind: str
    count: int


@dataclass(frozen=True)
class Pull:
    at: datetime
    partner: str
    kind: str
    format: str | None
    slug: str | None
    times: int  # pulls in that second


def _day(session: Session) -> Any:
    at = col(UsageEvent.at)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return func.date(at)  # SQLite keeps UTC text


def per_day(session: Session, since: datetime) -> list[DayCount]:
    day = _day(session)
    rows = session.execute(
        select(day, col(UsageEvent.kind), times_sum())
        .where(col(UsageEvent.at) >= since)
        .group_by(day, col(UsageEvent.kind))
    )
    return [
        DayCount(d if isinstance(d, date) else date.fromisoformat(str(d)), kind, n)
        for d, kind, n in rows
    ]


def per_partner(session: Session, since: datetime) -> list[PartnerCount]:
    rows = session.execute(
        select(col(Partner.name), col(UsageEvent.kind), times_sum())
        .join(Partner, col(Partner.id) == col(UsageEvent.partner_id))
        .where(col(UsageEvent.at) >= since)
        .group_by(col(Partner.name), col(UsageEvent.kind))
        .order_by(col(Partner.name))
    )
    return [PartnerCount(*row) for row in rows]


def per_piece(session: Session, since: datetime, limit: int = 10) -> list[PieceCount]:
    total = times_sum().label("total")
    top = (
        select(col(UsageEvent.article_id), total)
        .where(col(UsageEvent.at) >= since, col(UsageEvent.article_id).is_not(None))
        .group_by(col(UsageEvent.article_id))
        .order_by(total.desc(), col(UsageEvent.article_id))
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(
            col(Article.slug),
            col(Article.headline),
            col(UsageEvent.kind),
            times_sum(),
            top.c.total,
        )
        .join(top, top.c.article_id == col(UsageEvent.article_id))
        .join(Article, col(Article.id) == col(UsageEvent.article_id))
        .where(col(UsageEvent.at) >= since)
        .group_by(col(Article.slug), col(Article.headline), col(UsageEvent.kind), top.c.total)
        .order_by(top.c.total.desc(), col(Article.slug))
    )
    return [PieceCount(slug, headline, kind, n) for slug, headline, kind, n, _ in rows]


def latest_pulls(session: Session, limit: int = 10) -> list[Pull]:
    rows = session.execute(
        select(
            col(UsageEvent.at),
            col(Partner.name),
            col(UsageEvent.kind),
            col(UsageEvent.format),
            col(Article.slug),
            col(UsageEvent.times),
        )
        .join(Partner, col(Partner.id) == col(UsageEvent.partner_id))
        .outerjoin(Article, col(Article.id) == col(UsageEvent.article_id))
        .where(col(UsageEvent.kind) != "pixel_hit")
        .order_by(col(UsageEvent.at).desc(), col(UsageEvent.id).desc())
        .limit(limit)
    )
    return [Pull(*row) for row in rows]


def registered_since(session: Session, since: datetime) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .where(col(Article.created_at) >= since)
            .order_by(col(Article.created_at).desc())
        )
    )


def embargo_queue(session: Session, now: datetime, limit: int = 10) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .where(col(Article.status) == "published", col(Article.embargo_until) > now)
            .order_by(col(Article.embargo_until))
            .limit(limit)
        )
    )


def not_picked_up(session: Session, since: datetime, limit: int = 20) -> list[Article]:
    """Published pieces since `since` that no usage event names yet."""
    used = exists().where(col(UsageEvent.article_id) == col(Article.id))
    return list(
        session.scalars(
            select(Article)
            .where(col(Article.status) == "published", col(Article.published_at) >= since, ~used)
            .order_by(col(Article.published_at).desc())
            .limit(limit)
        )
    )
