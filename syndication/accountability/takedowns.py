"""Takedowns: opened by a withdrawal for every partner holding the piece, acknowledged by the
partner with its key, re-notified on a schedule while overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication.accountability.models import Notice, Takedown, TakedownPublic
from syndication.articles.models import Article
from syndication.errors import NotFound
from syndication.partners.models import Partner


def open_takedown(
    session: Session, partner_id: int, article: Article, reason: str, now: datetime
) -> Takedown:
    assert article.id is not None
    takedown = Takedown(
        partner_id=partner_id,
        article_id=article.id,
        revision=article.revision,
        reason=reason,
        opened_at=now,
    )
    session.add(takedown)
    session.flush()
    return takedown


def _public(
    takedown: Takedown, partner: str, article: str, notified: datetime | None, now: datetime,
    ack_hours: float,
) -> TakedownPublic:  # fmt: skip
    assert takedown.id is not None
    due = takedown.opened_at + timedelta(hours=ack_hours)
    return TakedownPublic(
        id=takedown.id,
        partner=partner,
        article=article,
        revision=takedown.revision,
        reason=takedown.reason,
        opened_at=takedown.opened_at,
        due_at=due,
        notified_at=notified,
        acknowledged_at=takedown.acknowledged_at,
        overdue=takedown.acknowledged_at is None and now >= due,
        reminders=takedown.reminders,
    )


def _listing(
    session: Session, where: list, now: datetime, ack_hours: float
) -> list[TakedownPublic]:  # type: ignore[type-arg]
    notified = (
        select(func.min(Notice.delivered_at))
        .where(Notice.takedown_id == Takedown.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Takedown, Partner.slug, Article.slug, notified)
        .join(Partner, col(Partner.id) == Takedown.partner_id)
        .join(Article, col(Article.id) == Takedown.article_id)
        .where(*where)
        .order_by(col(Takedown.opened_at).desc(), Partner.slug)
    )
    return [_public(t, p, a, n, now, ack_hours) for t, p, a, n in rows]


def for_article(
    session: Session, slug: str, now: datetime, ack_hours: float
) -> list[TakedownPublic]:
    article = session.scalars(select(Article).where(Article.slug == slug)).first()
    if article is None:
        raise NotFound(f"no piece {slug!r}", field="slug")
    return _listing(session, [Takedown.article_id == article.id], now, ack_hours)


def open_for_partner(
    session: Session, partner_id: int, now: datetime, ack_hours: float
) -> list[TakedownPublic]:
    where = [Takedown.partner_id == partner_id, col(Takedown.acknowledged_at).is_(None)]
    return _listing(session, where, now, ack_hours)


def acknowledge(
    session: Session, partner_id: int, takedown_id: int, now: datetime, ack_hours: float
) -> TakedownPublic:
    """Idempotent: a second acknowledgement keeps the first time."""
    takedown = session.get(Takedown, takedown_id)
    if takedown is None or takedown.partner_id != partner_id:
        raise NotFound(f"no takedown {takedown_id}", field="id")
    session.execute(
        update(Takedown)
        .where(col(Takedown.id) == takedown_id, col(Takedown.acknowledged_at).is_(None))
        .values(acknowledged_at=now)
    )
    session.execute(
        update(Notice)
        .where(col(Notice.takedown_id) == takedown_id, col(Notice.status) == "pending")
        .values(status="cancelled")
    )
    session.commit()
    session.refresh(takedown)
    return _listing(session, [Takedown.id == takedown_id], now, ack_hours)[0]
