"""The feed queries (listing, tombstones, the partner's related pages, the last window closure)
use their indexes, checked with the database's own planner after ANALYZE on a catalog large
enough that a sequential scan would be the planner's choice if no index fitted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from syndication.accountability.models import DeliveryRecord
from syndication.articles.models import Article
from syndication.db import session_scope
from syndication.feeds.listing import last_closure
from syndication.feeds.query import FeedQuery
from syndication.feeds.service import _page_query, build_feed
from syndication.licensing.models import License
from syndication.partners.models import Partner, PartnerLicense
from syndication.settings import Settings
from syndication.usage.service import Usage, record

PIECES, LICENSES = 20_000, 10
OTHERS = 40  # partners with pages of their own: a partner's pages are a sliver of them all
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _license(n: int) -> str:
    """The partner's license (lic-3) covers one piece in fifty, like a niche desk's."""
    return "lic-3" if n % 50 == 3 else f"lic-{(n % LICENSES) or 1}".replace("lic-3", "lic-4")


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(License), [
            {"code": f"lic-{n}", "name": f"License {n}", "url": "https://news.example.org/l",
             "summary": "", "terms": "", "credit_line": "By {{ holder }}.",
             "contact_email": "l@example.org", "min_audience": 0, "allows_modification": False,
             "allows_commercial": False, "requires_canonical": True, "requires_pixel": False,
             "credit_placement": "bottom", "created_at": NOW, "updated_at": NOW,
             "window_days": 365 if n == 3 else None}  # the partner's: Last-Modified's closure
            for n in range(LICENSES)
        ])  # fmt: skip
        conn.execute(insert(Partner), [
            {"slug": slug, "name": slug, "audience": 1_000, "sees_embargoed": False,
             "active": True, "created_at": NOW, "updated_at": NOW}
            for slug in ("gazette", *(f"courier-{k}" for k in range(OTHERS)))
        ])  # fmt: skip
        ids = dict(conn.execute(text("SELECT slug, id FROM partner")).all())  # type: ignore[arg-type]
        partner, others = ids["gazette"], [ids[f"courier-{k}"] for k in range(OTHERS)]
        conn.execute(insert(PartnerLicense), [{"partner_id": partner, "license": "lic-3"}])
        conn.execute(insert(Article), [
            {"slug": f"p-{n}", "headline": f"H {n}", "summary": "", "body_html": "<p>b</p>",
             "byline": "", "section": f"s{n % 7}", "tags": [], "copyright_holder": "H",
             "canonical_url": f"https://news.example.org/{n}", "license": _license(n),
             "published_at": NOW - timedelta(minutes=n), "source_credits": [],
             "related": [{"title": "R", "url": f"https://news.example.org/{n + 1}"}],
             "images": [], "corrections": [], "created_at": NOW, "updated_at": NOW,
             "status": "withdrawn" if n % 500 == 3 else "published",
             "withdrawn_at": NOW - timedelta(days=n % 60) if n % 500 == 3 else None}
            for n in range(PIECES)
        ])  # fmt: skip
        # The partner holds what it was sent (ledger) and downloaded bundles of it many times
        # (usage per piece), with a few pixel hits: the related-links query's haystack.
        conn.execute(insert(DeliveryRecord), [
            {"partner_id": partner, "article_id": n, "revision": 1, "html_sha256": "0" * 64,
             "license_code": "lic-3", "credit_line": "By H.", "delivered_at": NOW}
            for n in range(4, PIECES, 50)
        ])  # fmt: skip
    record(engine, [  # through the usage write, which keeps the pages the hits show
        Usage("bundle_download" if n % 100 else "pixel_hit", partner, NOW - timedelta(seconds=n),
              4 + 50 * (n % 20), "zip", None if n % 100 else f"https://gazette.example/{n}")
        for n in range(PIECES)
    ] + [  # other partners' readers, on the same pieces
        Usage("pixel_hit", others[n % OTHERS], NOW, 4 + 50 * (n % 20),
              page=f"https://courier.example/{n}")
        for n in range(PIECES)
    ])  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _article_queries(engine: Engine, settings: Settings) -> list[tuple[str, object]]:
    """Every statement a feed render sends that reads `article`, with its parameters; and the
    read by id of a page's rows, which a render sends only for a page that the scan's first
    batch (whole rows) did not fill."""
    seen: list[tuple[str, object]] = []

    def capture(_c, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if re.search(r"\bFROM (article|usage_event|partner_page)\b", statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(engine, write=False) as session:
            partner = session.query(Partner).filter_by(slug="gazette").one()
            built = build_feed(session, settings, partner, "atom", FeedQuery(), NOW)
            assert len(built.view.items) == 50 and built.view.tombstones
            ids = [d.article_id for d in built.deliveries]
            session.connection().execute(_page_query(engine.dialect.name), {"ids": ids})
            # A partner holding two windowed licenses: one statement, a branch per license.
            windows = {
                c: SimpleNamespace(code=c, window_days=d) for c, d in (("lic-3", 365), ("lic-4", 1))
            }
            last_closure(session, windows, NOW)  # type: ignore[arg-type]
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def _plan(engine: Engine, statement: str, parameters: object) -> str:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + statement, parameters).all()  # type: ignore[arg-type]
    return "\n".join(str(row[-1]) for row in rows)


def _generic_plan(engine: Engine, statement: str, parameters: dict[str, object]) -> str:
    """PostgreSQL's plan for the statement prepared, as psycopg prepares a render's repeated
    statements (their transaction ends with COMMIT, see `db.read_snapshot`): after five runs
    the planner may keep one plan for any parameters."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    with engine.connect() as conn:
        cursor = psycopg.ClientCursor(conn.connection.dbapi_connection)  # type: ignore[arg-type]
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE generic AS {numbered}")
        args = ", ".join(f"%({name})s" for name in names)
        cursor.execute(f"EXPLAIN EXECUTE generic({args})", parameters)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        conn.rollback()
        cursor.execute("DEALLOCATE generic")  # a prepared statement outlives the transaction
    return plan


def test_feed_queries_use_the_article_indexes(engine: Engine, settings: Settings) -> None:
    _seed(engine)
    queries = _article_queries(engine, settings)
    plans = {statement: _plan(engine, statement, params) for statement, params in queries}
    if engine.dialect.name == "postgresql":
        plans.update(
            (f"{statement} (generic)", _generic_plan(engine, statement, params))  # type: ignore[arg-type]
            for statement, params in queries
        )
    closure = [p for s, p in plans.items() if "max(article.published_at)" in s]
    aged = [p for s, p in plans.items() if "catalog_state" in s]  # with the licenses
    plans = {
        s: p
        for s, p in plans.items()
        if "max(article.published_at)" not in s and "catalog_state" not in s
    }
    # On PostgreSQL a first page's scan and its tombstone candidates are one statement (a
    # UNION ALL): its plan is in both lists, and each branch must use its index.
    listing = [p for s, p in plans.items() if "'published'" in s and "partner_page" not in s]
    stones = [p for s, p in plans.items() if "withdrawn_at >" in s]
    related = [p for s, p in plans.items() if "partner_page" in s]
    assert not [s for s in plans if "usage_event" in s]  # no render reads the hits themselves
    by_id = [p for s, p in plans.items() if re.search(r"WHERE article\.id (IN|= ANY)", s)]
    assert listing and stones and related and by_id and closure and aged, list(plans)
    for plan in aged:  # the newest aged-out withdrawal under the partner's licenses
        assert "ix_article_license_status_withdrawn" in plan, plan
        assert not re.search(r"Seq Scan on article|SCAN article\b(?! USING)", plan), plan
    for plan in closure:  # each license's newest piece before its cut-off, on an index
        assert re.search(
            # (license, published_at), or published_at alone where the cut-off leaves few rows
            r"(Scan( Backward)? using|USING (COVERING )?INDEX) ix_article_(license_)?published\b",
            plan,
        ), plan
        assert not re.search(r"Seq Scan on article|SCAN article\b(?! USING)", plan), plan
    for plan in by_id:
        assert re.search(r"Index Scan using article_pkey|USING INTEGER PRIMARY KEY", plan), plan
    for plan in related:  # the partner's pages of the related pieces, by key
        assert not re.search(r"Seq Scan on (article|partner_page)", plan), plan
        assert not re.search(r"SCAN (article|partner_page)\b(?! USING)", plan), plan
    if engine.dialect.name == "postgresql":
        assert any("ix_article_license_published" in p for p in listing), listing
        assert all("ix_article_license_status_withdrawn" in p for p in stones), stones
    else:
        assert any("USING INDEX ix_article_license_" in p for p in listing), listing
        assert all("USING INDEX ix_article_license_status_withdrawn" in p for p in stones), stones


def test_a_workers_renders_plan_the_catalog_read_once_and_each_scan_for_its_licenses(
    engine: Engine, settings: Settings
) -> None:
    """PostgreSQL plans a prepared statement for its parameters five times, then keeps a
    generic plan only if that costs no more.
    - The catalog read: with the withdrawn status bound as a parameter, its generic plan
      guessed a third of all pieces withdrawn, so each render planned it again (~0.2 ms, a
      fifth of that read). The status is now in the text, and it keeps one plan.
    - The scan and the window-closure read take the licenses as parameters. A generic plan
      for them, chosen on partners holding common licenses, read the published_at index and
      filtered out every other piece for a partner holding a rare one. They are not
      prepared, so each run is planned for its own licenses (a first page's scan carries its
      tombstone candidates' read along, a UNION ALL: planned each run too, as that read's
      custom plans were)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: its plan cache")
    _seed(engine)  # the partner holds a rare license with a window: both reads run
    with engine.connect() as conn:  # one session, as a pooled connection serves many renders
        # psycopg prepares a statement at its sixth run; the server plans it for its values
        # five times more before it may keep a generic plan.
        for _ in range(15):
            # Ends with COMMIT, as read_snapshot does: psycopg keeps its prepared statements
            # (a session closed on a transaction of its own would roll it back).
            with conn.begin(), Session(bind=conn) as session:
                partner = session.query(Partner).filter_by(slug="gazette").one()
                build_feed(session, settings, partner, "atom", FeedQuery(), NOW)
        prepared = conn.exec_driver_sql(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        ).all()
    catalog = [row for row in prepared if "catalog_state.version" in row[0]]
    assert catalog, prepared
    assert all(generic > 0 for _, generic, _ in catalog), catalog
    scans = [row for row in prepared if "ORDER BY article.published_at" in row[0]]
    closures = [row for row in prepared if "max(article.published_at)" in row[0]]
    assert not scans and not closures, (scans, closures)
