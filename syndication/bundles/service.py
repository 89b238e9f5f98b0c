"""One bundle for one partner: refuse clearly, answer 304 when unchanged, else render.

Entitlement comes from `republish.access.load_for_partner` (which calls `decide`); this module
adds only the bundle's formats, its validator and the usage event it leaves behind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from syndication.accountability.ledger import Delivery, piece_related_pages
from syndication.articles.models import Article
from syndication.bundles.render import RENDERERS
from syndication.bundles.view import FORMAT_VERSION, build_bundle
from syndication.errors import NotEntitled
from syndication.licensing.entitlement import Decision
from syndication.licensing.models import License
from syndication.partners.models import Partner
from syndication.republish.access import load_for_partner, view_for
from syndication.settings import Settings
from syndication.usage.service import Usage


@dataclass(frozen=True)
class BundleAnswer:
    fmt: str
    media_type: str
    etag: str
    filename: str
    body: bytes | None  # None: the partner's copy is current (304)
    usage: Usage | None  # what to record once the answer is sent
    delivery: Delivery | None = None  # and what the ledger records
    last_modified: datetime | None = None


def last_modified_of(
    article: Article, partner: Partner, license: License, now: datetime
) -> datetime:
    """The latest write the bundle shows, or the embargo's lift if that came later."""
    moments = [article.updated_at, partner.updated_at, license.updated_at]
    if article.embargo_until is not None and article.embargo_until <= now:
        moments.append(article.embargo_until)
    return max(moments)


def split_name(name: str) -> tuple[str, str]:
    """`council-budget.zip` -> (`council-budget`, `zip`); an unknown format is an unknown piece."""
    slug, dot, fmt = name.rpartition(".")
    if not dot or fmt not in RENDERERS:
        raise NotEntitled(f"no bundle {name!r}", field="slug")
    return slug, fmt


def etag_of(
    fmt: str,
    article: Article,
    partner: Partner,
    license: License,
    decision: Decision,
    related_pages: dict[str, str],
) -> str:
    """Moves with anything the bundle shows: the revision, the license, the partner, the embargo
    and the partner's own pages its related links point to."""
    parts = (
        FORMAT_VERSION,
        fmt,
        article.id,
        article.revision,
        partner.id,
        partner.updated_at.isoformat(),
        license.code,
        license.updated_at.isoformat(),
        decision.embargoed_until.isoformat() if decision.embargoed_until else "",
        *(f"{ours} {theirs}" for ours, theirs in sorted(related_pages.items())),
    )
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def bundle(
    session: Session,
    settings: Settings,
    partner: Partner,
    name: str,
    now: datetime,
    if_none_match: str | None = None,
) -> BundleAnswer:
    slug, fmt = split_name(name)
    article, license, decision = load_for_partner(session, partner, slug, now)
    media_type, render = RENDERERS[fmt]
    assert partner.id is not None and article.id is not None
    pages = piece_related_pages(session, partner.id, article)
    etag = etag_of(fmt, article, partner, license, decision, pages)
    filename = f"{article.slug}-r{article.revision}.{fmt}"
    modified = last_modified_of(article, partner, license, now)
    if matches(if_none_match, etag):
        return BundleAnswer(fmt, media_type, etag, filename, None, None, last_modified=modified)
    piece = view_for(settings, partner, article, license, decision, pages)
    view = build_bundle(piece, article, license)
    usage = Usage("bundle_download", partner.id, now, article_id=article.id, format=fmt)
    delivery = Delivery(
        partner.id,
        article.id,
        piece.revision,
        view.html,
        license.code,
        piece.credit_line,
        now,
    )
    return BundleAnswer(
        fmt, media_type, etag, filename, render(view), usage, delivery, last_modified=modified
    )
