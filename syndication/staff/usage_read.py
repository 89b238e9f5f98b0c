"""Read-only usage and registry figures for the staff dashboard (typed, small, no writes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Date, and_, cast, exists, func
from sqlalchemy.orm import Session
from sqlmodel import select

from syndication.articles.models import Article
from syndication.partners.models import Partner
from syndication.usage.models import UsageEvent

KINDS = ("feed_pull", "bundle_download", "pixel_hit")


class DayCount(NamedTuple):
    day: date
    kind: str
    count: int


class PartnerCount(NamedTuple):
    partner: str
    kind: str
    count: int


class PieceCount(NamedTuple):
    slug: str
    headline: str
    kind: str
    count: int


class PageSeen(NamedTuple):
    slug: str
    page: str
    count: int


class Pull(NamedTuple):
    at: datetime
    partner: str
    kind: str
    format: str | None
    slug: str | None


def _day(session: Session) -> Any:
    at = UsageEvent.at
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return func.date(at)  # SQLite keeps UTC text


def per_day(session: Session, since: datetime) -> list[DayCount]:
    day = _day(session)
    rows = session.execute(
        select(day, UsageEvent.kind, func.count())
        .where(UsageEvent.at >= since)
        .group_by(day, UsageEvent.kind)
    )
    return [
        DayCount(d if isinstance(d, date) else date.fromisoformat(str(d)), kind, n)
        for d, kind, n in rows
    ]


def per_partner(session: Session, since: datetime) -> list[PartnerCount]:
    rows = session.execute(
        select(Partner.name, UsageEvent.kind, func.count())
        .join(Partner, Partner.id == UsageEvent.partner_id)  # type: ignore[arg-type]
        .where(UsageEvent.at >= since)
        .group_by(Partner.name, UsageEvent.kind)
        .order_by(Partner.name)
    )
    return [PartnerCount(*row) for row in rows]


def per_piece(session: Session, since: datetime, limit: int = 10) -> list[PieceCount]:
    total = func.count().label("total")
    top = (
        select(UsageEvent.article_id, total)
        .where(UsageEvent.at >= since, UsageEvent.article_id.is_not(None))  # type: ignore[union-attr]
        .group_by(UsageEvent.article_id)
        .order_by(total.desc(), UsageEvent.article_id)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(Article.slug, Article.headline, UsageEvent.kind, func.count(), top.c.total)
        .join(top, top.c.article_id == UsageEvent.article_id)
        .join(Article, Article.id == UsageEvent.article_id)  # type: ignore[arg-type]
        .where(UsageEvent.at >= since)
        .group_by(Article.slug, Article.headline, UsageEvent.kind, top.c.total)
        .order_by(top.c.total.desc(), Article.slug)
    )
    return [PieceCount(slug, headline, kind, n) for slug, headline, kind, n, _ in rows]


def pages_seen(session: Session, since: datetime, slugs: list[str]) -> list[PageSeen]:
    if not slugs:
        return []
    rows = session.execute(
        select(Article.slug, UsageEvent.page, func.count())
        .join(Article, Article.id == UsageEvent.article_id)  # type: ignore[arg-type]
        .where(
            UsageEvent.at >= since,
            UsageEvent.kind == "pixel_hit",
            UsageEvent.page.is_not(None),  # type: ignore[union-attr]
            Article.slug.in_(slugs),  # type: ignore[attr-defined]
        )
        .group_by(Article.slug, UsageEvent.page)
        .order_by(Article.slug, func.count().desc())
    )
    return [PageSeen(*row) for row in rows]


def latest_pulls(session: Session, limit: int = 10) -> list[Pull]:
    rows = session.execute(
        select(UsageEvent.at, Partner.name, UsageEvent.kind, UsageEvent.format, Article.slug)
        .join(Partner, Partner.id == UsageEvent.partner_id)  # type: ignore[arg-type]
        .outerjoin(Article, Article.id == UsageEvent.article_id)  # type: ignore[arg-type]
        .where(UsageEvent.kind != "pixel_hit")
        .order_by(UsageEvent.at.desc(), UsageEvent.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(limit)
    )
    return [Pull(*row) for row in rows]


def registered_since(session: Session, since: datetime) -> list[Article]:
    return list(
        session.scalars(
            select(Article).where(Article.created_at >= since).order_by(Article.created_at.desc())  # type: ignore[attr-defined]
        )
    )


def embargo_queue(session: Session, now: datetime, limit: int = 10) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .where(Article.status == "published", Article.embargo_until > now)  # type: ignore[operator]
            .order_by(Article.embargo_until)
            .limit(limit)
        )
    )


def not_picked_up(session: Session, since: datetime, limit: int = 20) -> list[Article]:
    """Published pieces since `since` that no usage event names yet."""
    used = exists().where(and_(UsageEvent.article_id == Article.id))
    return list(
        session.scalars(
            select(Article)
            .where(Article.status == "published", Article.published_at >= since, ~used)
            .order_by(Article.published_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    )
