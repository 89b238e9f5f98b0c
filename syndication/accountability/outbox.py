"""Writing push notices into the outbox, inside the transaction of the staff action that
caused them: a correction or withdrawal commits together with its notices, or not at all."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication.accountability import ledger, takedowns
from syndication.accountability.models import Notice, Takedown
from syndication.accountability.webhooks import active_endpoints
from syndication.articles.models import Article


def _piece(article: Article) -> dict:
    return {
        "slug": article.slug,
        "headline": article.headline,
        "canonical_url": article.canonical_url,
    }


def _enqueue(
    session: Session,
    partner_id: int,
    article: Article,
    kind: str,
    payload: dict,
    now: datetime,
    takedown_id: int | None = None,
) -> int:
    assert article.id is not None
    count = 0
    for endpoint in active_endpoints(session, partner_id):
        assert endpoint.id is not None
        session.add(
            Notice(
                endpoint_id=endpoint.id,
                partner_id=partner_id,
                article_id=article.id,
                takedown_id=takedown_id,
                kind=kind,
                revision=article.revision,
                payload={"kind": kind, "piece": _piece(article), **payload},
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    return count


def on_correction(session: Session, article: Article, text: str, now: datetime) -> None:
    """Every partner holding an earlier revision is told, with the new bundle's address."""
    assert article.id is not None
    payload = {
        "revision": article.revision,
        "reason": text,
        "occurred_at": now.isoformat(),
        "bundle_url": f"/bundles/{article.slug}.zip",  # made absolute when sent
    }
    for partner_id in ledger.holders(session, article.id, before_revision=article.revision):
        _enqueue(session, partner_id, article, "correction", payload, now)


def removal_request(takedown: Takedown) -> dict:
    return {
        "takedown_id": takedown.id,
        "ack_url": f"/api/partner/v1/takedowns/{takedown.id}/ack",  # made absolute when sent
        "opened_at": takedown.opened_at.isoformat(),
    }


def on_withdrawal(session: Session, article: Article, reason: str, now: datetime) -> None:
    """A takedown per holder, and a withdrawal notice to each of its endpoints."""
    assert article.id is not None
    for partner_id in ledger.holders(session, article.id, before_revision=article.revision):
        takedown = takedowns.open_takedown(session, partner_id, article, reason, now)
        payload = {
            "revision": article.revision,
            "reason": reason,
            "occurred_at": now.isoformat(),
            "removal_request": removal_request(takedown),
        }
        _enqueue(session, partner_id, article, "withdrawal", payload, now, takedown.id)


def remind(session: Session, takedown: Takedown, article: Article, now: datetime) -> int:
    payload = {
        "revision": takedown.revision,
        "reason": takedown.reason,
        "occurred_at": now.isoformat(),
        "removal_request": removal_request(takedown),
    }
    return _enqueue(
        session, takedown.partner_id, article, "takedown-reminder", payload, now, takedown.id
    )


def remind_overdue(session: Session, now: datetime, ack_hours: float) -> int:
    """Queue a reminder for each takedown unacknowledged for `ack_hours` since it was opened
    or last reminded. The conditional UPDATE lets one worker only win each reminder."""
    cutoff = now - timedelta(hours=ack_hours)
    # Takedowns alone, then their articles by key: joined, a planner with statistics for a
    # large article table and none for an empty takedown table scanned every article
    # (~60 ms at 100k pieces, on every worker's poll).
    due = session.scalars(
        select(Takedown).where(
            col(Takedown.acknowledged_at).is_(None),
            col(Takedown.opened_at) <= cutoff,
            or_(col(Takedown.reminded_at).is_(None), col(Takedown.reminded_at) <= cutoff),
        )
    ).all()
    queued = 0
    for takedown in due:
        article = session.get(Article, takedown.article_id)
        assert article is not None  # takedown.article_id is a foreign key
        claimed = session.execute(
            update(Takedown)
            .where(
                col(Takedown.id) == takedown.id,
                col(Takedown.acknowledged_at).is_(None),
                or_(col(Takedown.reminded_at).is_(None), col(Takedown.reminded_at) <= cutoff),
            )
            .values(reminded_at=now, reminders=Takedown.reminders + 1)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            queued += remind(session, takedown, article, now)
    session.commit()
    return queued
