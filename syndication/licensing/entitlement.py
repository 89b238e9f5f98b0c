"""The entitlement rule: one pure function decides whether a partner sees a piece, and why.

Feeds, bundles, the pixel and the staff views all call `decide`. `licensing.candidates` is
the same rule narrowed to SQL for a listing, before `decide` confirms each row; a property
test (tests/unit/test_feed_candidates.py) holds the two together.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class Verdict(StrEnum):
    ENTITLED = "entitled"
    NOT_ENTITLED = "not_entitled"
    EMBARGOED = "embargoed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class PartnerFacts(Protocol):
    @property
    def active(self) -> bool: ...
    @property
    def audience(self) -> int: ...
    @property
    def sees_embargoed(self) -> bool: ...
    @property
    def sections(self) -> list[str] | None: ...


@dataclass(frozen=True)
class PartnerSnapshot:
    """A partner's facts read once: a listing asks `decide` about every row it scans, and an
    ORM attribute read costs several times a plain one."""

    active: bool
    audience: int
    sees_embargoed: bool
    sections: list[str] | None

    @classmethod
    def of(cls, partner: PartnerFacts) -> PartnerSnapshot:
        return cls(partner.active, partner.audience, partner.sees_embargoed, partner.sections)


class ArticleFacts(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def license(self) -> str: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def embargo_until(self) -> datetime | None: ...


class LicenseFacts(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def min_audience(self) -> int: ...
    @property
    def window_days(self) -> int | None: ...


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    # Set when the partner sees the piece before its embargo lifts (trusted partners).
    embargoed_until: datetime | None = None
    # When the answer changes by time alone (an embargo lifts, a window closes).
    changes_at: datetime | None = None

    @property
    def entitled(self) -> bool:
        return self.verdict is Verdict.ENTITLED


def format_when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y %H:%M UTC").lstrip("0")


def available_from(article: ArticleFacts) -> datetime:
    """A piece is public from its publication time, or later if embargoed."""
    embargo = article.embargo_until
    return max(article.published_at, embargo) if embargo else article.published_at


def window_closes(article: ArticleFacts, license: LicenseFacts) -> datetime | None:
    if license.window_days is None:
        return None
    return article.published_at + timedelta(days=license.window_days)


def _static_refusal(
    partner: PartnerFacts, granted: Collection[str], article: ArticleFacts, license: LicenseFacts
) -> str | None:
    if not partner.active:
        return "the partner is inactive"
    if article.license not in granted:
        return f"the partner does not hold the license {article.license}"
    if partner.audience < license.min_audience:
        return (
            f"audience {partner.audience:,} is below this license's minimum of "
            f"{license.min_audience:,}"
        )
    if partner.sections is not None and article.section not in partner.sections:
        return f"section {article.section!r} is outside the partner's sections"
    return None


def decide(
    partner: PartnerFacts,
    granted: Collection[str],
    article: ArticleFacts,
    license: LicenseFacts,
    now: datetime,
) -> Decision:
    """Decide whether `partner` (holding the license codes `granted`) sees `article` at `now`."""
    refusal = _static_refusal(partner, granted, article, license)
    if refusal:
        return Decision(Verdict.NOT_ENTITLED, refusal)
    if article.status == "withdrawn":
        return Decision(Verdict.WITHDRAWN, "the piece was withdrawn")
    closes = window_closes(article, license)
    if closes is not None and now >= closes:
        return Decision(Verdict.EXPIRED, f"window closed on {format_when(closes)}")
    opens = available_from(article)
    if now < opens:
        changes = min(opens, closes) if closes else opens
        if partner.sees_embargoed:
            return Decision(
                Verdict.ENTITLED,
                f"embargoed until {format_when(opens)}; the partner is trusted with embargoes",
                embargoed_until=opens,
                changes_at=changes,
            )
        return Decision(
            Verdict.EMBARGOED,
            f"embargoed until {format_when(opens)}",
            embargoed_until=opens,
            changes_at=changes,
        )
    return Decision(Verdict.ENTITLED, "entitled", changes_at=closes)
