"""The Article entity family and its parts (source credits, related links, images)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from syndication.articles.sanitize import MAX_BODY_CHARS, MAX_DEPTH, nesting_depth, sanitize_html
from syndication.db import UTCDateTime, utcnow
from syndication.fields import HttpUrl, Line, OptionalLine, Slug, UtcDatetime
from syndication.fields import Text as TextValue

ArticleStatus = Literal["published", "withdrawn"]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceCredit(Part):
    name: Line
    url: HttpUrl | None = None


class RelatedLink(Part):
    title: Line
    url: HttpUrl


class Image(Part):
    url: HttpUrl
    caption: OptionalLine = ""
    credit: OptionalLine = ""
    syndicate: bool = True


class Correction(Part):
    at: UtcDatetime
    text: str


def _checked_body(value: str) -> str:
    if len(value) > MAX_BODY_CHARS:
        raise ValueError(f"at most {MAX_BODY_CHARS:,} characters")
    clean = sanitize_html(value)
    if nesting_depth(clean) > MAX_DEPTH:
        raise ValueError(f"elements may nest at most {MAX_DEPTH} deep")
    return clean


Body = Annotated[str, AfterValidator(_checked_body)]
Tag = Annotated[Line, PydanticField(max_length=100)]
Section = Annotated[Line, PydanticField(max_length=100)]


class ArticleBase(SQLModel):
    headline: Line = Field(sa_type=String(500))
    summary: TextValue = Field(default="", sa_type=Text)
    body_html: Body = Field(sa_type=Text)
    byline: OptionalLine = Field(default="", sa_type=String(500))
    section: Section = Field(sa_type=String(100))
    tags: list[Tag] = Field(default_factory=list, max_length=50, sa_type=JSON)
    canonical_url: HttpUrl = Field(sa_type=String(2000))
    copyright_holder: Line = Field(sa_type=String(500))
    published_at: UtcDatetime = Field(sa_type=UTCDateTime)
    embargo_until: UtcDatetime | None = Field(default=None, sa_type=UTCDateTime)
    license: Slug = Field(
        sa_type=String(128),
        sa_column_args=[ForeignKey("license.code", onupdate="CASCADE", ondelete="RESTRICT")],
    )
    source_credits: list[SourceCredit] = Field(default_factory=list, max_length=50, sa_type=JSON)
    related: list[RelatedLink] = Field(default_factory=list, max_length=50, sa_type=JSON)
    images: list[Image] = Field(default_factory=list, max_length=50, sa_type=JSON)


class Article(ArticleBase, table=True):
    __tablename__ = "article"
    __table_args__ = (
        Index("ix_article_license_published", "license", "published_at"),
        Index("ix_article_license_section_published", "license", "section", "published_at"),
        Index("ix_article_published", "published_at"),
        # Feed tombstones: the partner's licenses' pieces withdrawn in the last 30 days, found
        # without reading those of other licenses (a wire withdraws pieces of every license).
        Index("ix_article_license_status_withdrawn", "license", "status", "withdrawn_at"),
        # Related links: our canonical URLs -> the partner's pages (accountability.ledger).
        Index("ix_article_canonical_url", "canonical_url"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=128, unique=True, index=True)
    # Stored as the plain JSON the schemas validated (see ArticleBase for their shape).
    source_credits: list[dict] = Field(default_factory=list, sa_type=JSON)  # type: ignore[assignment]
    related: list[dict] = Field(default_factory=list, sa_type=JSON)  # type: ignore[assignment]
    images: list[dict] = Field(default_factory=list, sa_type=JSON)  # type: ignore[assignment]
    status: str = Field(default="published", sa_type=String(16))
    revision: int = Field(default=1)
    corrections: list[dict] = Field(default_factory=list, sa_type=JSON)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawal_reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ArticleCreate(ArticleBase):
    slug: Slug


class ArticleUpdate(SQLModel):
    headline: Line | None = None
    summary: TextValue | None = None
    body_html: Body | None = None
    byline: OptionalLine | None = None
    section: Section | None = None
    tags: list[Tag] | None = PydanticField(default=None, max_length=50)
    canonical_url: HttpUrl | None = None
    copyright_holder: Line | None = None
    published_at: UtcDatetime | None = None
    embargo_until: UtcDatetime | None = None
    license: Slug | None = None
    source_credits: list[SourceCredit] | None = PydanticField(default=None, max_length=50)
    related: list[RelatedLink] | None = PydanticField(default=None, max_length=50)
    images: list[Image] | None = PydanticField(default=None, max_length=50)


class ArticlePublic(ArticleBase):
    slug: str
    status: ArticleStatus
    revision: int
    corrections: list[Correction]
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    created_at: datetime
    updated_at: datetime


class ArticlePage(BaseModel):
    items: list[ArticlePublic]
    total: int
    limit: int
    offset: int


class CorrectionCreate(BaseModel):
    text: Annotated[TextValue, PydanticField(min_length=1, max_length=5_000)]


class WithdrawalCreate(BaseModel):
    reason: Annotated[TextValue, PydanticField(min_length=1, max_length=5_000)]
