"""The Partner entity family, the licenses it holds, and its keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from syndication.db import UTCDateTime, utcnow
from syndication.fields import Email, HttpUrl, Line, Name, Slug

Section = Annotated[Line, PydanticField(max_length=100)]


class PartnerBase(SQLModel):
    name: Name = Field(sa_type=String(200))
    homepage: HttpUrl | None = Field(default=None, sa_type=String(2000))
    contact_email: Email | None = Field(default=None, sa_type=String(320))
    audience: int = Field(default=0, ge=0, le=10**12)
    sections: list[Section] | None = Field(default=None, max_length=100, sa_type=JSON)
    sees_embargoed: bool = False
    active: bool = True


class Partner(PartnerBase, table=True):
    __tablename__ = "partner"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=128, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartnerLicense(SQLModel, table=True):
    """A license granted to a partner."""

    __tablename__ = "partner_license"

    partner_id: int = Field(
        sa_type=Integer,
        sa_column_args=[ForeignKey("partner.id", ondelete="CASCADE")],
        primary_key=True,
    )
    license: str = Field(
        sa_type=String(128),
        sa_column_args=[ForeignKey("license.code", onupdate="CASCADE", ondelete="RESTRICT")],
        primary_key=True,
    )


class PartnerKey(SQLModel, table=True):
    """A partner's API key: only its prefix and SHA-256 are kept."""

    __tablename__ = "partner_key"

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(
        sa_type=Integer,
        sa_column_args=[ForeignKey("partner.id", ondelete="CASCADE")],
        index=True,
    )
    prefix: str = Field(max_length=32, unique=True, index=True)
    key_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def digest(self) -> str:
        return self.key_hash


class PartnerCreate(PartnerBase):
    slug: Slug
    licenses: list[Slug] = PydanticField(default_factory=list, max_length=100)


class PartnerUpdate(SQLModel):
    name: Name | None = None
    homepage: HttpUrl | None = None
    contact_email: Email | None = None
    audience: int | None = PydanticField(default=None, ge=0, le=10**12)
    sections: list[Section] | None = PydanticField(default=None, max_length=100)
    sees_embargoed: bool | None = None
    active: bool | None = None
    licenses: list[Slug] | None = PydanticField(default=None, max_length=100)


class PartnerPublic(PartnerBase):
    slug: str
    licenses: list[str]
    created_at: datetime
    updated_at: datetime


class KeyIssued(BaseModel):
    key: str
    prefix: str
    created_at: datetime


class KeyPublic(BaseModel):
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
