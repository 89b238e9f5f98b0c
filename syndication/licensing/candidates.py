"""The entitlement rule narrowed to SQL, so a listing never loads every piece to filter it.

A narrowing, never a decision: every row these clauses keep is then confirmed by `decide`,
and a property test holds that they never drop a row `decide` would grant (or tombstone).
Embargoes stay out of SQL on purpose: they lift by time alone, and `decide` must see the
embargoed rows it scans to report when the answer changes (`Decision.changes_at`).

Each clause is built once per shape (how many licenses the partner holds and which have a
window, whether it is limited to sections) with bind parameters; a call answers only the
values. Building and cache-keying the statement each call cost more than SQLite running it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, false, or_
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import col

from syndication.articles.models import Article
from syndication.db import constant
from syndication.licensing.entitlement import LicenseFacts, PartnerFacts

# Withdrawn pieces are announced as tombstones for this long after the withdrawal.
TOMBSTONE_DAYS = 30

# Listing: (a window or not per held license, in order; whether limited to sections)
Shape = tuple[tuple[bool, ...], bool]


def _held(
    partner: PartnerFacts, granted: Collection[str], licenses: Iterable[LicenseFacts]
) -> list[LicenseFacts]:
    if not partner.active:
        return []
    return [lic for lic in licenses if lic.code in granted and partner.audience >= lic.min_audience]


def _static(per_license: list[ColumnElement[bool]], sections: bool) -> ColumnElement[bool]:
    if not per_license:
        return false()
    clause = or_(*per_license)
    if sections:
        clause = and_(clause, col(Article.section).in_(bindparam("sections", expanding=True)))
    return clause


@lru_cache(maxsize=64)
def listing_template(shape: Shape) -> ColumnElement[bool]:
    windows, sections = shape
    per_license: list[ColumnElement[bool]] = []
    for i, windowed in enumerate(windows):
        clause: ColumnElement[bool] = col(Article.license) == bindparam(f"code_{i}")
        if windowed:
            clause = and_(clause, col(Article.published_at) > bindparam(f"opened_{i}"))
        per_license.append(clause)
    return and_(col(Article.status) == constant("published"), _static(per_license, sections))


@lru_cache(maxsize=64)
def tombstone_template(shape: tuple[int, bool]) -> ColumnElement[bool]:
    held, sections = shape
    # One IN list, not an OR of equalities: PostgreSQL makes an IN list an index condition of
    # ix_article_license_status_withdrawn, but reads every withdrawn piece to filter an OR.
    codes: list[BindParameter[str]] = [bindparam(f"code_{i}") for i in range(held)]
    per_license: list[ColumnElement[bool]] = [col(Article.license).in_(codes)] if held else []
    return and_(
        col(Article.status) == constant("withdrawn"),
        col(Article.withdrawn_at) > bindparam("withdrawn_after"),
        _static(per_license, sections),
    )


def listing_values(
    partner: PartnerFacts,
    granted: Collection[str],
    licenses: Iterable[LicenseFacts],
    now: datetime,
) -> tuple[Shape, dict[str, Any]]:
    """Rows that may be ENTITLED (or EMBARGOED) at `now`: held license, audience, section,
    published, and inside the license window (which, unlike an embargo, only ever closes).
    Answers the shape of `listing_template` and its bind values."""
    held = _held(partner, granted, licenses)
    values = _license_values(partner, held)
    for i, lic in enumerate(held):
        if lic.window_days is not None:
            values[f"opened_{i}"] = now - timedelta(days=lic.window_days)
    shape = (tuple(lic.window_days is not None for lic in held), partner.sections is not None)
    return shape, values


def tombstone_values(
    partner: PartnerFacts,
    granted: Collection[str],
    licenses: Iterable[LicenseFacts],
    now: datetime,
) -> tuple[tuple[int, bool], dict[str, Any]]:
    """Rows `decide` may answer WITHDRAWN for, withdrawn within the last TOMBSTONE_DAYS:
    the shape of `tombstone_template` and its bind values."""
    held = _held(partner, granted, licenses)
    values = _license_values(partner, held)
    values["withdrawn_after"] = now - timedelta(days=TOMBSTONE_DAYS)
    return (len(held), partner.sections is not None), values


def _license_values(partner: PartnerFacts, held: list[LicenseFacts]) -> dict[str, Any]:
    """The bind values both templates share: each held license's code, and the sections."""
    values: dict[str, Any] = {f"code_{i}": lic.code for i, lic in enumerate(held)}
    if held and partner.sections is not None:
        values["sections"] = list(partner.sections)
    return values
