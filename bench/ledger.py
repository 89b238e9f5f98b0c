"""The ledger on the feed path: one batched `record_deliveries` against its baseline, the
usage events a feed pull already writes (`usage.service.record`, one INSERT per batch).

    python bench/ledger.py [DATABASE_URL]   # default: a fresh SQLite file in a temp dir
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import text

from syndication import migrate
from syndication.accountability.ledger import Delivery, record_deliveries
from syndication.db import make_engine
from syndication.settings import Settings
from syndication.usage.service import Usage, record

ITEMS, PULLS = 50, 40  # a 50-item feed pulled 40 times


def _seed(engine) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).isoformat()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO license (name, url, summary, terms, credit_line, contact_email, "
            "min_audience, allows_modification, allows_commercial, requires_canonical, "
            "requires_pixel, credit_placement, code, created_at, updated_at) VALUES ('L', "
            "'https://x.org', '', '', 'c', 'a@x.org', 0, false, false, true, false, 'bottom', "
            "'l', :now, :now)"), {"now": now})  # fmt: skip
        conn.execute(text(
            "INSERT INTO partner (name, audience, sees_embargoed, active, slug, created_at, "
            "updated_at) VALUES ('P', 1, false, true, 'p', :now, :now)"), {"now": now})  # fmt: skip
        for i in range(ITEMS):
            conn.execute(text(
                "INSERT INTO article (headline, summary, body_html, byline, section, tags, "
                "canonical_url, copyright_holder, published_at, license, source_credits, "
                "related, images, slug, status, revision, corrections, created_at, updated_at) "
                "VALUES ('h', '', '<p>b</p>', '', 's', '[]', 'https://x.org/a', 'H', :now, 'l', "
                "'[]', '[]', '[]', :slug, 'published', 1, '[]', :now, :now)"),
                {"now": now, "slug": f"a{i}"})  # fmt: skip


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(PULLS):
        fn()
    return (time.perf_counter() - started) / PULLS * 1000


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(database_url=url)
    migrate.downgrade(settings, "base")
    migrate.upgrade(settings)
    engine = make_engine(settings)
    _seed(engine)
    with engine.connect() as conn:
        partner = conn.execute(text("SELECT id FROM partner")).scalar_one()
        articles = list(conn.execute(text("SELECT id FROM article")).scalars())
    now = datetime.now(UTC)
    deliveries = [Delivery(partner, a, 1, "<p>Text.</p>" * 400, "l", "c", now) for a in articles]
    usage = [Usage("feed_pull", partner, now, a, "rss") for a in articles]
    baseline = _timed(lambda: record(engine, usage))
    ours = _timed(lambda: record_deliveries(engine, deliveries))  # first pull inserts, then dups
    print(f"{engine.dialect.name}: usage.record {baseline:.2f} ms/pull, "
          f"record_deliveries {ours:.2f} ms/pull, ratio {ours / baseline:.2f}")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
