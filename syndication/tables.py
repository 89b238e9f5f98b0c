"""Every table, imported once so that SQLModel.metadata is whole (Alembic and tests use it)."""

from sqlmodel import SQLModel

from syndication.accountability.models import (
    ComplianceCheck,
    DeliveryRecord,
    Notice,
    NoticeAttempt,
    ScheduledJob,
    Takedown,
    WebhookEndpoint,
)
from syndication.articles.models import Article
from syndication.catalog import CatalogState
from syndication.licensing.models import License
from syndication.partners.models import Partner, PartnerKey, PartnerLicense
from syndication.staff.models import StaffLoginFailure, StaffToken, StaffUser
from syndication.usage.models import PartnerPage, UsageEvent

metadata = SQLModel.metadata

__all__ = [
    "Article",
    "CatalogState",
    "ComplianceCheck",
    "DeliveryRecord",
    "License",
    "Notice",
    "NoticeAttempt",
    "Partner",
    "PartnerKey",
    "PartnerLicense",
    "PartnerPage",
    "ScheduledJob",
    "StaffLoginFailure",
    "StaffToken",
    "StaffUser",
    "Takedown",
    "UsageEvent",
    "WebhookEndpoint",
    "metadata",
]
