"""A small demo data set: three licenses, five partners, a dozen pieces. Loading is idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from syndication.articles.models import Article, ArticleCreate
from syndication.articles.service import add_correction, create_article, withdraw_article
from syndication.db import session_scope, utcnow
from syndication.licensing.models import License, LicenseCreate
from syndication.licensing.service import create_license
from syndication.partners.models import Partner, PartnerCreate
from syndication.partners.service import create_partner, issue_key
from syndication.settings import Settings
from syndication.staff.accounts import create_staff, issue_token
from syndication.staff.models import StaffUser

STAFF_EMAIL = "desk@example.org"
STAFF_PASSWORD = "demo-password-123"
FEED_PARTNER = "gazette"
SITE = "https://news.example.org"

LICENSES: list[dict[str, Any]] = [
    {
        "code": "free-eligible",
        "name": "Free for eligible publishers",
        "url": f"{SITE}/republish",
        "summary": "Free republication for news publishers with a large audience.",
        "terms": "Republish in full, unaltered, with the credit line and the tracking pixel. "
        "No sale or sublicensing. Corrections must be carried within 24 hours.",
        "credit_line": "Content created by {{ holder }} is available without charge to any "
        "eligible news publisher that can provide a large audience. For licensing "
        "opportunities of our original content, please contact {{ contact_email }}.",
        "contact_email": "licensing@example.org",
        "min_audience": 10_000,
        "requires_pixel": True,
        "window_days": 30,
        "credit_placement": "bottom",
    },
    {
        "code": "paid-premium",
        "name": "Premium syndication (paid)",
        "url": f"{SITE}/syndication/premium",
        "summary": "Paid licence for commercial partners; light edits allowed.",
        "terms": "Licensed under the partner's syndication agreement. Edits for length and "
        "house style are allowed; the meaning must not change.",
        "credit_line": "{{ headline }} — by {{ byline }} for {{ holder }}, "
        "syndicated to {{ partner_name }}.",
        "contact_email": "sales@example.org",
        "allows_modification": True,
        "allows_commercial": True,
        "requires_pixel": True,
        "credit_placement": "top",
    },
    {
        "code": "cc-by-nd-4",
        "name": "Creative Commons Attribution-NoDerivatives 4.0",
        "url": "https://creativecommons.org/licenses/by-nd/4.0/",
        "summary": "Share with credit; no changes.",
        "terms": "You may copy and redistribute the material in any medium or format for any "
        "purpose, even commercially, with attribution and without modification.",
        "credit_line": "“{{ headline }}” by {{ byline }}, {{ holder }}, is licensed under "
        "{{ license_name }} ({{ license_url }}).",
        "contact_email": "licensing@example.org",
        "allows_commercial": True,
        "credit_placement": "both",
    },
]

PARTNERS: list[dict[str, Any]] = [
    {"slug": "gazette", "name": "The Partner Gazette", "audience": 250_000,
     "licenses": ["free-eligible", "cc-by-nd-4"], "sees_embargoed": True,
     "homepage": "https://gazette.example.com", "contact_email": "desk@gazette.example.com"},
    {"slug": "valley-times", "name": "Valley Times", "audience": 5_000,
     "licenses": ["free-eligible", "cc-by-nd-4"], "homepage": "https://valley.example.com"},
    {"slug": "metro-daily", "name": "Metro Daily", "audience": 120_000,
     "licenses": ["paid-premium"], "sections": ["politics", "business"],
     "homepage": "https://metro.example.com"},
    {"slug": "weekly-voice", "name": "The Weekly Voice", "audience": 40_000,
     "licenses": ["cc-by-nd-4"], "homepage": "https://voice.example.com"},
    {"slug": "old-herald", "name": "Old Herald (lapsed)", "audience": 80_000,
     "licenses": ["free-eligible"], "active": False},
]  # fmt: skip

TOPICS = [
    ("council-budget", "Council approves a leaner budget after a night of debate",
     "politics", "free-eligible"),
    ("river-flood-plan", "The river flood plan nobody wants to pay for", "climate",
     "free-eligible"),
    ("hospital-waits", "Emergency waits hit a five-year high", "health", "free-eligible"),
    ("school-meals", "Free school meals reach 40,000 more children", "education",
     "cc-by-nd-4"),
    ("port-strike", "Port workers vote to strike over automation", "business", "paid-premium"),
    ("housing-permits", "Housing permits fall for the third quarter", "business",
     "free-eligible"),
    ("election-maps", "How the new electoral map changes three districts", "politics",
     "paid-premium"),
    ("heat-pumps", "Heat pumps, explained: what the subsidy covers", "climate", "cc-by-nd-4"),
    ("transit-fares", "Transit fares freeze for another year", "politics", "free-eligible"),
    ("clinic-closures", "Rural clinics close weekends as staff leave", "health", "cc-by-nd-4"),
    ("budget-leak", "Leaked memo shows budget shortfall", "politics", "free-eligible"),
    ("mayor-interview", "The mayor on water, roads and her second term", "politics",
     "free-eligible"),
]  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    staff_email: str
    staff_password: str
    staff_token: str
    feed_url: str


def _piece(n: int, slug: str, headline: str, section: str, license: str, now: datetime) -> dict:
    images = [
        {"url": f"{SITE}/images/{slug}.jpg", "caption": f"Scene from {headline.lower()}",
         "credit": "Photo: Sam Lens / The Example News Foundation", "syndicate": True},
    ]  # fmt: skip
    if n == 0:
        images.append({"url": f"{SITE}/images/{slug}-agency.jpg", "caption": "Agency picture",
                       "credit": "Photo: Wire Agency (not licensed for syndication)",
                       "syndicate": False})  # fmt: skip
    return {
        "slug": slug,
        "headline": headline,
        "summary": f"{headline}. What happened, and what comes next.",
        "body_html": (
            f"<p>{headline}, officials confirmed on Tuesday.</p>"
            "<p>The decision follows months of <strong>public hearings</strong> and a report "
            "that found the costs had been underestimated.</p>"
            "<blockquote>We listened, and we changed the plan.</blockquote>"
            '<p>Read the <a href="https://news.example.org/documents">documents</a>.</p>'
        ),
        "byline": ["Ana Example", "Ben Reporter", "Chloé Writer"][n % 3],
        "section": section,
        "tags": [section, "local"],
        "canonical_url": f"{SITE}/{now.year}/{slug}",
        "copyright_holder": "The Example News Foundation",
        "published_at": now - timedelta(hours=6 * (n + 1)),
        "embargo_until": now + timedelta(days=1) if slug == "budget-leak" else None,
        "license": license,
        "source_credits": [{"name": "Politico", "url": "https://www.politico.com/"}]
        if n % 2 == 0
        else [{"name": "City records"}],
        "related": [{"title": "Our earlier coverage", "url": f"{SITE}/{now.year}/earlier-{slug}"}],
        "images": images,
    }


def load(engine: Engine, settings: Settings) -> DemoResult:
    now = utcnow()
    with session_scope(engine) as session:
        if not session.scalars(select(StaffUser).where(StaffUser.email == STAFF_EMAIL)).first():
            create_staff(session, STAFF_EMAIL, STAFF_PASSWORD)
        for data in LICENSES:
            if not session.scalars(select(License).where(License.code == data["code"])).first():
                create_license(session, LicenseCreate.model_validate(data))
        for data in PARTNERS:
            if not session.scalars(select(Partner).where(Partner.slug == data["slug"])).first():
                create_partner(session, PartnerCreate.model_validate(data))
        for n, (slug, headline, section, license) in enumerate(TOPICS):
            if session.scalars(select(Article).where(Article.slug == slug)).first():
                continue
            create_article(
                session,
                ArticleCreate.model_validate(_piece(n, slug, headline, section, license, now)),
            )
            if slug == "hospital-waits":
                add_correction(
                    session, slug, "An earlier version gave the wrong year for the peak.", now
                )
            if slug == "mayor-interview":
                withdraw_article(session, slug, "Legal: the interview was not cleared.", now)
        token = issue_token(session, STAFF_EMAIL)
        key = issue_key(session, FEED_PARTNER).key
    return DemoResult(
        staff_email=STAFF_EMAIL,
        staff_password=STAFF_PASSWORD,
        staff_token=token,
        feed_url=settings.absolute(f"/feeds/atom.xml?key={key}"),
    )
