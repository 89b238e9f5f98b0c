"""The entitlement rule narrowed to SQL, so a listing never loads every piece to filter it.

A narrowing, never a decision: every row these clauses keep is then confirmed by `decide`,
and a property test holds that they never drop a row `decide` would grant (or tombstone).
Embargoes stay out of SQL on purpose: they lift by time alone, and `decide` must see the
embargoed rows it scans to report when the answer changes (`Decision.changes_at`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from syndication.articles.models import Article
from syndication.licensing.entitlement import LicenseFacts, PartnerFacts

# Withdrawn pieces are announced as tombstones for this long after the withdrawal.
TOMBSTONE_DAYS = 30


def _held(
    partner: PartnerFacts, granted: Collection[str], licenses: Iterable[LicenseFacts]
) -> list[LicenseFacts]:
    if not partner.active:
        return []
    return [lic for lic in licenses if lic.code in granted and partner.audience >= lic.min_audience]


def _static(partner: PartnerFacts, per_license: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    if not per_license:
        return false()
    clause = or_(*per_license)
    if partner.sections is not None:
        clause = and_(clause, col(Article.section).in_(list(partner.sections)))
    return clause


def listing_clause(
    partner: PartnerFacts,
    granted: Collection[str],
    licenses: Iterable[LicenseFacts],
    now: datetime,
) -> ColumnElement[bool]:
    """Rows that may be ENTITLED (or EMBARGOED) at `now`: held license, audience, section,
    published, and inside the license window (which, unlike an embargo, only ever closes)."""
    per_license: list[ColumnElement[bool]] = []
    for lic in _held(partner, granted, licenses):
        clause: ColumnElement[bool] = col(Article.license) == lic.code
        if lic.window_days is not None:
            opened_after = now - timedelta(days=lic.window_days)
            clause = and_(clause, col(Article.published_at) > opened_after)
        per_license.append(clause)
    return and_(col(Article.status) == "published", _static(partner, per_license))


def tombstone_clause(
    partner: PartnerFacts,
    granted: Collection[str],
    licenses: Iterable[LicenseFacts],
    now: datetime,
) -> ColumnElement[bool]:
    """Rows `decide` may answer WITHDRAWN for, withdrawn within the last TOMBSTONE_DAYS."""
    per_license: list[ColumnElement[bool]] = [
        col(Article.license) == lic.code for lic in _held(partner, granted, licenses)
    ]
    return and_(
        col(Article.status) == "withdrawn",
        col(Article.withdrawn_at) > now - timedelta(days=TOMBSTONE_DAYS),
        _static(partner, per_license),
    )
