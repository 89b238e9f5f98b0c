"""Usage events: who pulled, downloaded or showed what, and where. No IP address is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from syndication.db import EventId, UTCDateTime, utcnow

UsageKind = Literal["feed_pull", "bundle_download", "pixel_hit"]


class UsageEvent(SQLModel, table=True):
    __tablename__ = "usage_event"
    __table_args__ = (
        Index("ix_usage_partner_at", "partner_id", "at"),
        Index("ix_usage_article_at", "article_id", "at"),
        Index("ix_usage_kind_at", "kind", "at"),
        # A partner's pixel hits among its feed pulls (related links in feeds and bundles).
        Index("ix_usage_partner_kind_at", "partner_id", "kind", "at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=EventId)
    kind: str = Field(sa_type=String(16))
    partner_id: int = Field(
        sa_type=Integer, sa_column_args=[ForeignKey("partner.id", ondelete="CASCADE")]
    )
    article_id: int | None = Field(
        default=None,
        sa_type=Integer,
        sa_column_args=[ForeignKey("article.id", ondelete="CASCADE")],
    )
    format: str | None = Field(default=None, sa_type=String(16))
    page: str | None = Field(default=None, sa_type=String(2000))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Feed pulls of the same partner and format within one second are one row (`at` is that
    # second); every other event is a row of its own. Figures are sums of `times`.
    times: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


class PartnerPage(SQLModel, table=True):
    """A page of a partner's that showed one of our pieces: its pixel hits with that page, as
    one row, written with the hits (`service.record`). Related links and the compliance check
    read these, not the hits, whose number grows with every page view (the related links of
    a cold render read ~600 ms of hits on a catalog with a few million of them)."""

    __tablename__ = "partner_page"

    partner_id: int = Field(
        sa_type=Integer,
        sa_column_args=[ForeignKey("partner.id", ondelete="CASCADE")],
        primary_key=True,
    )
    article_id: int = Field(
        sa_type=Integer,
        sa_column_args=[ForeignKey("article.id", ondelete="CASCADE")],
        primary_key=True,
        index=True,
    )
    page: str = Field(sa_type=String(2000), primary_key=True)
    # The page's first pixel hit: related links take the pages first seen up to the catalog's
    # `usage_upto`, so every worker renders a catalog version alike.
    first_id: int = Field(sa_type=EventId)
