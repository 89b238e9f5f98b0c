"""What one bundle holds: the partner's republication plus the license terms, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from syndication.republish.render import render_fragment
from syndication.republish.view import Republication

# Bumped when the bundle's files or their layout change, so caches and partners can tell.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class LicenseTerms:
    code: str
    name: str
    url: str
    summary: str
    terms: str
    contact_email: str
    allows_modification: bool
    allows_commercial: bool
    requires_canonical: bool
    requires_pixel: bool
    window_days: int | None
    credit_placement: str


@dataclass(frozen=True)
class BundleView:
    piece: Republication
    license: LicenseTerms
    first_created: datetime  # when the piece was registered here (ninjs firstcreated)
    withdrawn: bool  # ninjs pubstatus: canceled
    html: str  # the shared republishable fragment, rendered once per bundle

    @property
    def revision_time(self) -> datetime:
        """Every revision bump moves `updated_at`; nothing else about the download does."""
        return self.piece.updated_at


class _License(Protocol):
    """Read-only, so the table's narrower types (a Literal placement) fit."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def terms(self) -> str: ...
    @property
    def contact_email(self) -> str: ...
    @property
    def allows_modification(self) -> bool: ...
    @property
    def allows_commercial(self) -> bool: ...
    @property
    def requires_canonical(self) -> bool: ...
    @property
    def requires_pixel(self) -> bool: ...
    @property
    def window_days(self) -> int | None: ...
    @property
    def credit_placement(self) -> str: ...


class _Article(Protocol):
    created_at: datetime
    status: str


def license_terms(license: _License) -> LicenseTerms:
    return LicenseTerms(
        code=license.code,
        name=license.name,
        url=license.url,
        summary=license.summary,
        terms=license.terms,
        contact_email=license.contact_email,
        allows_modification=license.allows_modification,
        allows_commercial=license.allows_commercial,
        requires_canonical=license.requires_canonical,
        requires_pixel=license.requires_pixel,
        window_days=license.window_days,
        credit_placement=license.credit_placement,
    )


def build_bundle(piece: Republication, article: _Article, license: _License) -> BundleView:
    return BundleView(
        piece=piece,
        license=license_terms(license),
        first_created=article.created_at,
        withdrawn=article.status == "withdrawn",
        html=render_fragment(piece),
    )
