"""The dashboard: today's registrations, the embargo queue, recent pulls, and usage charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from syndication.articles.models import Article
from syndication.staff import usage_read
from syndication.staff.charts import Chart, grid
from syndication.staff.usage_read import Pull
from syndication.usage import reports
from syndication.usage.reports import KINDS, PageSeen

CHART_DAYS = 14
KIND_NAMES = {"feed_pull": "feed pulls", "bundle_download": "bundle downloads",
              "pixel_hit": "pixel hits"}  # fmt: skip


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    since: datetime
    registered_today: list[Article]
    embargo_queue: list[Article]
    latest_pulls: list[Pull]
    not_picked_up: list[Article]
    by_day: Chart
    by_partner: Chart
    by_piece: Chart
    pages: dict[str, list[PageSeen]]


def build(session: Session, now: datetime) -> Dashboard:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=CHART_DAYS - 1)
    names = [KIND_NAMES[k] for k in KINDS]
    days = [(since + timedelta(days=i)).date() for i in range(CHART_DAYS)]
    day_counts = usage_read.per_day(session, since)
    by_day = grid(
        f"Usage per day, last {CHART_DAYS} days",
        [d.strftime("%a %d %b") for d in days],
        names,
        ((c.day.strftime("%a %d %b"), KIND_NAMES[c.kind], c.count) for c in day_counts),
    )
    partners = usage_read.per_partner(session, since)
    by_partner = grid(
        "Usage per partner",
        sorted({c.partner for c in partners}),
        names,
        ((c.partner, KIND_NAMES[c.kind], c.count) for c in partners),
    )
    pieces = usage_read.per_piece(session, since)
    slugs = list(dict.fromkeys(c.slug for c in pieces))
    by_piece = grid(
        "Usage per piece (most used)",
        slugs,
        names,
        ((c.slug, KIND_NAMES[c.kind], c.count) for c in pieces),
    )
    only_pixels = reports.UsageFilter(kind="pixel_hit", since=since)
    seen_on = reports.pages_seen(session, only_pixels, pieces=slugs) if slugs else []
    pages = {seen.piece: seen.pages for seen in seen_on}
    return Dashboard(
        now=now,
        since=since,
        registered_today=usage_read.registered_since(session, today),
        embargo_queue=usage_read.embargo_queue(session, now),
        latest_pulls=usage_read.latest_pulls(session),
        not_picked_up=usage_read.not_picked_up(session, now - timedelta(days=30)),
        by_day=by_day,
        by_partner=by_partner,
        by_piece=by_piece,
        pages=pages,
    )
