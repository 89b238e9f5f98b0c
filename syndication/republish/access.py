"""One piece for one partner: load it, decide, and either answer the view or refuse clearly.

Refusals follow the SPEC: not entitled or unknown is the same 404; a piece the partner would
otherwise be entitled to gets its reason (embargoed, expired, withdrawn = 410).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session
from sqlmodel import select

from syndication.articles.models import Article
from syndication.errors import Embargoed, Expired, NotEntitled, Withdrawn
from syndication.licensing.entitlement import Decision, Verdict, decide, window_closes
from syndication.licensing.models import License
from syndication.partners.models import Partner
from syndication.partners.service import granted_codes
from syndication.republish.pixel import make_token
from syndication.republish.view import Republication, build_view
from syndication.settings import Settings


def pixel_url(settings: Settings, partner_id: int, article_id: int) -> str:
    return settings.absolute(f"/px/{make_token(settings.secret_key, partner_id, article_id)}.gif")


def refuse_unless_entitled(decision: Decision, article: Article, license: License) -> None:
    if decision.verdict is Verdict.ENTITLED:
        return
    if decision.verdict is Verdict.EMBARGOED:
        assert decision.embargoed_until is not None
        raise Embargoed(decision.embargoed_until)
    if decision.verdict is Verdict.EXPIRED:
        closed = window_closes(article, license)
        assert closed is not None
        raise Expired(closed)
    if decision.verdict is Verdict.WITHDRAWN:
        raise Withdrawn(article.withdrawal_reason or "", article.withdrawn_at)
    raise NotEntitled(f"no piece {article.slug!r}", field="slug")


def load_for_partner(
    session: Session, partner: Partner, slug: str, now: datetime
) -> tuple[Article, License, Decision]:
    row = session.execute(
        select(Article, License)
        .join(License, License.code == Article.license)  # type: ignore[arg-type]
        .where(Article.slug == slug)
    ).first()
    if row is None:
        raise NotEntitled(f"no piece {slug!r}", field="slug")
    article, license = row
    assert partner.id is not None
    decision = decide(partner, granted_codes(session, partner.id), article, license, now)
    refuse_unless_entitled(decision, article, license)
    return article, license, decision


def view_for(
    settings: Settings,
    partner: Partner,
    article: Article,
    license: License,
    decision: Decision,
    related_pages: Mapping[str, str] | None = None,
) -> Republication:
    """`related_pages` (from `accountability.ledger.related_pages`): our canonical URL -> the
    partner's own page for related pieces it republished; those links follow the partner."""
    partner_id, article_id = partner.id, article.id
    assert partner_id is not None and article_id is not None
    return build_view(
        article,
        license,
        partner,
        authority=settings.authority,
        embargoed_until=decision.embargoed_until,
        # Signed only where the license asks for a pixel: an HMAC per piece of a feed.
        pixel_url=pixel_url(settings, partner_id, article_id) if license.requires_pixel else None,
        related_pages=related_pages,
    )
