"""Tables of the accountability domain and the JSON shapes staff and partners see."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from syndication.db import EventId, UTCDateTime, utcnow
from syndication.fields import HttpUrl


def _fk(target: str, nullable: bool = False, index: bool = False) -> object:
    return Field(
        default=None if nullable else ...,
        sa_type=Integer,
        sa_column_args=[ForeignKey(target, ondelete="CASCADE")],
        index=index,
    )


class DeliveryRecord(SQLModel, table=True):
    """One row per (partner, piece, revision): what the partner got, first time it got it."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("partner_id", "article_id", "revision", name="uq_delivery_once"),
        Index("ix_delivery_article", "article_id", "revision"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=EventId)
    partner_id: int = _fk("partner.id")  # type: ignore[assignment]
    article_id: int = _fk("article.id")  # type: ignore[assignment]
    revision: int
    html_sha256: str = Field(sa_type=String(64))
    license_code: str = Field(sa_type=String(128))
    credit_line: str = Field(sa_type=Text)
    delivered_at: datetime = Field(sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = _fk("partner.id", index=True)  # type: ignore[assignment]
    url: str = Field(sa_type=String(2000))
    # Kept as given: the HMAC needs the secret itself; it is answered once, at creation.
    secret: str = Field(sa_type=String(128))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Takedown(SQLModel, table=True):
    """A withdrawal asks every partner that holds the piece to remove it, and to say so."""

    __tablename__ = "takedown"
    __table_args__ = (UniqueConstraint("partner_id", "article_id", name="uq_takedown_once"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = _fk("partner.id")  # type: ignore[assignment]
    article_id: int = _fk("article.id", index=True)  # type: ignore[assignment]
    revision: int
    reason: str = Field(sa_type=Text)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminders: int = 0


class Notice(SQLModel, table=True):
    """The outbox: one push notice to one endpoint, written in the staff action's transaction."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = _fk("webhook_endpoint.id", index=True)  # type: ignore[assignment]
    partner_id: int = _fk("partner.id")  # type: ignore[assignment]
    article_id: int = _fk("article.id", index=True)  # type: ignore[assignment]
    takedown_id: int | None = _fk("takedown.id", nullable=True)  # type: ignore[assignment]
    kind: str = Field(sa_type=String(32))  # correction | withdrawal | takedown-reminder
    revision: int
    payload: dict = Field(sa_type=JSON)
    status: str = Field(default="pending", sa_type=String(16))  # pending|delivered|failed|cancelled
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_token: str | None = Field(default=None, sa_type=String(32))
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeAttempt(SQLModel, table=True):
    __tablename__ = "notice_attempt"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = _fk("notice.id", index=True)  # type: ignore[assignment]
    at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=String(500))
    duration_ms: int


class ComplianceCheck(SQLModel, table=True):
    """One look at one partner page; the rows for a page are its history."""

    __tablename__ = "compliance_check"
    __table_args__ = (
        Index("ix_compliance_page", "partner_id", "article_id", "page", "checked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = _fk("partner.id")  # type: ignore[assignment]
    article_id: int = _fk("article.id", index=True)  # type: ignore[assignment]
    page: str = Field(sa_type=String(2000))
    checked_at: datetime = Field(sa_type=UTCDateTime)
    verdict: str = Field(sa_type=String(16))  # compliant | non-compliant | unreachable
    http_status: int | None = None
    error: str | None = Field(default=None, sa_type=String(500))
    revision: int
    credit_line: bool | None = None
    canonical_link: bool | None = None
    rel_canonical: bool | None = None
    pixel: bool | None = None
    similarity: float | None = Field(default=None, sa_type=Float)
    altered: bool | None = None


class ScheduledJob(SQLModel, table=True):
    """When a periodic job may next run; claimed with a conditional UPDATE across workers."""

    __tablename__ = "scheduled_job"

    name: str = Field(sa_type=String(64), primary_key=True)
    next_run_at: datetime = Field(sa_type=UTCDateTime)


# --- JSON shapes ---------------------------------------------------------------------------


class WebhookCreate(BaseModel):
    url: HttpUrl


class WebhookPublic(BaseModel):
    id: int
    url: str
    created_at: datetime


class WebhookIssued(WebhookPublic):
    secret: str


class Holding(BaseModel):
    partner: str
    article: str
    revision: int
    current_revision: int
    html_sha256: str
    license_code: str
    credit_line: str
    delivered_at: datetime


class AttemptPublic(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class NoticePublic(BaseModel):
    id: int
    partner: str
    article: str
    endpoint_url: str
    kind: str
    revision: int
    status: str
    attempts: list[AttemptPublic]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class TakedownPublic(BaseModel):
    id: int
    partner: str
    article: str
    revision: int
    reason: str
    opened_at: datetime
    due_at: datetime
    notified_at: datetime | None
    acknowledged_at: datetime | None
    overdue: bool
    reminders: int


class CheckPublic(BaseModel):
    checked_at: datetime
    verdict: str
    http_status: int | None
    error: str | None
    revision: int
    credit_line: bool | None
    canonical_link: bool | None
    rel_canonical: bool | None
    pixel: bool | None
    similarity: float | None
    altered: bool | None


class PageHistory(BaseModel):
    partner: str
    article: str
    page: str
    latest: CheckPublic
    history: list[CheckPublic]
