"""Partner webhook endpoints: registered by staff, HTTPS only (loopback HTTP by setting)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication.accountability import signing
from syndication.accountability.destinations import is_loopback_http
from syndication.accountability.models import (
    AttemptPublic,
    Notice,
    NoticeAttempt,
    NoticePublic,
    WebhookEndpoint,
    WebhookIssued,
    WebhookPublic,
)
from syndication.articles.models import Article
from syndication.errors import Invalid, NotFound
from syndication.partners.models import Partner
from syndication.partners.service import get_partner
from syndication.settings import Settings

MAX_ENDPOINTS = 10


def check_url(settings: Settings, url: str) -> None:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise Invalid("must not carry credentials", field="url")
    if parts.fragment:
        raise Invalid("must not carry a fragment", field="url")
    if parts.scheme == "https":
        return
    if settings.webhook_allow_loopback_http and is_loopback_http(url):
        return
    raise Invalid("must be an https URL", field="url")


def active_endpoints(session: Session, partner_id: int) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.partner_id == partner_id,
                col(WebhookEndpoint.deleted_at).is_(None),
            )
            .order_by(col(WebhookEndpoint.id))
        )
    )


def _public(endpoint: WebhookEndpoint) -> WebhookPublic:
    assert endpoint.id is not None
    return WebhookPublic(id=endpoint.id, url=endpoint.url, created_at=endpoint.created_at)


def list_endpoints(session: Session, slug: str) -> list[WebhookPublic]:
    partner = get_partner(session, slug)
    assert partner.id is not None
    return [_public(e) for e in active_endpoints(session, partner.id)]


def add_endpoint(
    session: Session, settings: Settings, slug: str, url: str, now: datetime
) -> WebhookIssued:
    partner = get_partner(session, slug)
    assert partner.id is not None
    check_url(settings, url)
    existing = active_endpoints(session, partner.id)
    if len(existing) >= MAX_ENDPOINTS:
        raise Invalid(f"at most {MAX_ENDPOINTS} endpoints per partner", field="url")
    if any(e.url == url for e in existing):
        raise Invalid("this endpoint is already registered", field="url")
    endpoint = WebhookEndpoint(
        partner_id=partner.id, url=url, secret=signing.new_secret(), created_at=now
    )
    session.add(endpoint)
    session.commit()
    return WebhookIssued(**_public(endpoint).model_dump(), secret=endpoint.secret)


def remove_endpoint(session: Session, slug: str, endpoint_id: int, now: datetime) -> None:
    """Kept for the notice history; its pending notices are cancelled."""
    partner = get_partner(session, slug)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.partner_id != partner.id or endpoint.deleted_at is not None:
        raise NotFound(f"no webhook {endpoint_id} for partner {slug!r}", field="id")
    endpoint.deleted_at = now
    for notice in session.scalars(
        select(Notice).where(Notice.endpoint_id == endpoint_id, Notice.status == "pending")
    ):
        notice.status = "cancelled"
    session.commit()


def list_notices(session: Session, status: str | None, limit: int = 100) -> list[NoticePublic]:
    """The outbox, newest first, each notice with every attempt made."""
    query = (
        select(Notice, Partner.slug, Article.slug, WebhookEndpoint.url)
        .join(Partner, col(Partner.id) == Notice.partner_id)
        .join(Article, col(Article.id) == Notice.article_id)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == Notice.endpoint_id)
        .order_by(col(Notice.created_at).desc(), col(Notice.id).desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Notice.status == status)
    rows = session.execute(query).all()
    ids = [n.id for n, *_ in rows if n.id is not None]
    attempts: dict[int, list[AttemptPublic]] = {}
    for attempt in session.scalars(
        select(NoticeAttempt)
        .where(col(NoticeAttempt.notice_id).in_(ids))
        .order_by(col(NoticeAttempt.id))
    ):
        attempts.setdefault(attempt.notice_id, []).append(
            AttemptPublic.model_validate(attempt, from_attributes=True)
        )
    return [
        NoticePublic(
            id=n.id or 0,
            partner=p,
            article=a,
            endpoint_url=url,
            kind=n.kind,
            revision=n.revision,
            status=n.status,
            attempts=attempts.get(n.id or 0, []),
            next_attempt_at=n.next_attempt_at if n.status == "pending" else None,
            created_at=n.created_at,
            delivered_at=n.delivered_at,
        )
        for n, p, a, url in rows
    ]
