"""The License entity family."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field as PydanticField
from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from syndication.db import UTCDateTime, utcnow
from syndication.fields import Email, HttpUrl, Name, Slug
from syndication.fields import Text as TextValue

CreditPlacement = Literal["top", "bottom", "both"]


class LicenseBase(SQLModel):
    name: Name = Field(max_length=200)
    url: HttpUrl = Field(sa_type=String(2000))
    summary: TextValue = Field(default="", sa_type=Text)
    terms: TextValue = Field(default="", sa_type=Text)
    credit_line: TextValue = Field(sa_type=Text)
    contact_email: Email = Field(sa_type=String(320))
    min_audience: int = Field(default=0, ge=0, le=10**12)
    allows_modification: bool = False
    allows_commercial: bool = False
    requires_canonical: bool = True
    requires_pixel: bool = False
    window_days: int | None = Field(default=None, ge=1, le=36_500)
    credit_placement: CreditPlacement = Field(default="bottom", sa_type=String(8))


class License(LicenseBase, table=True):
    __tablename__ = "license"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=128, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LicenseCreate(LicenseBase):
    code: Slug


class LicenseUpdate(SQLModel):
    name: Name | None = None
    url: HttpUrl | None = None
    summary: TextValue | None = None
    terms: TextValue | None = None
    credit_line: TextValue | None = None
    contact_email: Email | None = None
    min_audience: int | None = PydanticField(default=None, ge=0, le=10**12)
    allows_modification: bool | None = None
    allows_commercial: bool | None = None
    requires_canonical: bool | None = None
    requires_pixel: bool | None = None
    window_days: int | None = PydanticField(default=None, ge=1, le=36_500)
    credit_placement: CreditPlacement | None = None


class LicensePublic(LicenseBase):
    code: str
    created_at: datetime
    updated_at: datetime
