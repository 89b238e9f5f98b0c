"""What staff ask most: what would this partner receive, and why (not)?

Both answers come from the code partners hit: `licensing.entitlement.decide` for the verdict,
`republish.access.view_for` and `republish.render.render_fragment` for the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session
from sqlmodel import select

from syndication.accountability.ledger import piece_related_pages
from syndication.articles.models import Article
from syndication.licensing.entitlement import Decision, decide
from syndication.licensing.models import License
from syndication.partners.models import Partner
from syndication.partners.service import granted_codes
from syndication.republish.access import view_for
from syndication.republish.render import render_fragment
from syndication.republish.view import Republication
from syndication.settings import Settings

RECENT_PIECES = 100


@dataclass(frozen=True)
class Entitlement:
    article: Article
    license: License
    decision: Decision


@dataclass(frozen=True)
class Preview:
    partner: Partner
    decision: Decision
    view: Republication
    html: str  # exactly what the partner receives
    display_html: str  # the same fragment without the tracking pixel, to show on the staff page


def entitlements(session: Session, partner: Partner, now: datetime) -> list[Entitlement]:
    """The most recent pieces, each with the partner's decision and its reason."""
    assert partner.id is not None
    granted = granted_codes(session, partner.id)
    rows = session.execute(
        select(Article, License)
        .join(License, License.code == Article.license)  # type: ignore[arg-type]
        .order_by(Article.published_at.desc(), Article.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(RECENT_PIECES)
    ).all()
    return [Entitlement(a, lic, decide(partner, granted, a, lic, now)) for a, lic in rows]


def preview(
    session: Session, settings: Settings, article: Article, partner: Partner, now: datetime
) -> Preview:
    """The decision for this partner now, and the exact HTML the feeds and bundles would carry."""
    assert partner.id is not None
    license = session.scalars(select(License).where(License.code == article.license)).one()
    decision = decide(partner, granted_codes(session, partner.id), article, license, now)
    pages = piece_related_pages(session, partner.id, article)
    view = view_for(settings, partner, article, license, decision, pages)
    # Showing the pixel in the staff browser would count a hit the partner never made.
    unseen = render_fragment(replace(view, pixel_url=None))
    return Preview(partner, decision, view, render_fragment(view), unseen)
