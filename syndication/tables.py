"""Every table, imported once so that SQLModel.metadata is whole (Alembic and tests use it)."""

from sqlmodel import SQLModel

from syndication.articles.models import Article
from syndication.catalog import CatalogState
from syndication.licensing.models import License
from syndication.partners.models import Partner, PartnerKey, PartnerLicense
from syndication.staff.models import StaffLoginFailure, StaffToken, StaffUser
from syndication.usage.models import UsageEvent

metadata = SQLModel.metadata

__all__ = [
    "Article",
    "CatalogState",
    "License",
    "Partner",
    "PartnerKey",
    "PartnerLicense",
    "StaffLoginFailure",
    "StaffToken",
    "StaffUser",
    "UsageEvent",
    "metadata",
]
