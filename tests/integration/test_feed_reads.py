"""How a feed render reads, per backend: id and URL lists bound as one parameter (an array on
PostgreSQL, an expanded IN on SQLite) answer the same rows; a render's statements all see one
snapshot, and on PostgreSQL psycopg's prepared statements outlive the render."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import feedparser
import pytest
from litestar.testing import TestClient
from psycopg.pq import Trace
from sqlalchemy import create_engine, event, insert, literal_column, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from syndication import catalog
from syndication.accountability.ledger import related_pages
from syndication.accountability.models import DeliveryRecord
from syndication.articles.models import Article
from syndication.db import (
    ENDS_SNAPSHOT,
    UNPREPARED,
    SnapshotMisuse,
    make_engine,
    read_snapshot,
    session_scope,
)
from syndication.deps import _with_session
from syndication.feeds.listing import last_closure, scan_page, tombstones, tombstones_of
from syndication.feeds.query import FeedQuery
from syndication.feeds.service import _catalog_and_licenses, _licenses, _page_query
from syndication.feeds.serving import _authenticate, fill
from syndication.licensing.candidates import TOMBSTONE_DAYS
from syndication.licensing.entitlement import PartnerSnapshot
from syndication.licensing.models import License
from syndication.partners.models import Partner, PartnerLicense
from syndication.partners.service import issue_key
from syndication.settings import Settings
from syndication.usage.pixel import PixelHit, counted
from syndication.usage.service import Usage, record

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PIECES = 8


def _license(code: str, name: str) -> dict[str, object]:
    return {"code": code, "name": name, "url": f"https://news.example.org/l/{code}",
            "summary": "", "terms": "", "credit_line": "By {{ holder }}.",
            "contact_email": "l@example.org", "min_audience": 0, "allows_modification": False,
            "allows_commercial": False, "requires_canonical": True, "requires_pixel": False,
            "credit_placement": "bottom", "created_at": NOW, "updated_at": NOW}  # fmt: skip


def _seed(engine: Engine) -> int:
    """Eight pieces under one license held by one partner; the partner was sent piece 2 and
    showed it on its own page. Answers the partner's id."""
    with engine.begin() as conn:
        conn.execute(insert(License), [_license("lic", "License")])
        conn.execute(insert(Partner), [
            {"slug": "gazette", "name": "Gazette", "audience": 1_000, "sees_embargoed": False,
             "active": True, "created_at": NOW, "updated_at": NOW}
        ])  # fmt: skip
        partner = conn.execute(text("SELECT id FROM partner")).scalar_one()
        conn.execute(insert(PartnerLicense), [{"partner_id": partner, "license": "lic"}])
        conn.execute(insert(Article), [
            {"id": n, "slug": f"p-{n}", "headline": f"H {n}", "summary": "",
             "body_html": "<p>b</p>", "byline": "", "section": "news", "tags": [f"t{n}"],
             "copyright_holder": "H", "canonical_url": f"https://news.example.org/{n}",
             "license": "lic", "published_at": NOW - timedelta(minutes=n),
             "source_credits": [], "images": [], "corrections": [],
             "related": [{"title": "R", "url": f"https://news.example.org/{(n + 1) % PIECES + 1}"}],
             "created_at": NOW, "updated_at": NOW}
            for n in range(1, PIECES + 1)
        ])  # fmt: skip
        conn.execute(insert(DeliveryRecord), [
            {"partner_id": partner, "article_id": 2, "revision": 1, "html_sha256": "0" * 64,
             "license_code": "lic", "credit_line": "By H.", "delivered_at": NOW}
        ])  # fmt: skip
    record(engine, [Usage("pixel_hit", partner, NOW, 2, page="https://gazette.example/two")])
    return int(partner)


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_page_rows_by_id_list(engine: Engine) -> None:
    _seed(engine)
    seen = _statements(engine)
    with session_scope(engine, write=False) as session:
        conn = session.connection()
        query = _page_query(engine.dialect.name)
        for ids in ([3, 1, 7], [5, 5, 99], list(range(1, PIECES + 1)), [99], []):
            rows = conn.execute(query, {"ids": ids}).all()
            assert sorted(r.id for r in rows) == sorted({i for i in ids if i <= PIECES})
        [row] = conn.execute(query, {"ids": [4]}).all()
        assert row.tags == ["t4"] and row.published_at == NOW - timedelta(minutes=4)
    by_id = {s for s in seen if "article.body_html" in s}
    if engine.dialect.name == "postgresql":  # one statement text for every list
        assert len(by_id) == 1 and "= ANY (" in by_id.pop()
    else:
        assert all(" IN (" in s for s in by_id)


def test_the_scan_reads_whole_rows_and_a_page_it_did_not_fill_is_read_by_id(
    engine: Engine, settings: Settings
) -> None:
    """The scan's first batch (the page's size plus one) reads whole rows, and a render of a
    page that batch fills sends no read by id. Here the three newest pieces are then put
    under embargo, so a 3-item page's first batch of 4 holds one entitled piece: a second,
    narrower batch (facts only) finds the other two, and one read by id, of those two,
    completes them. Both renders carry whole pieces (headline, body, tags)."""
    partner_id = _seed(engine)
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
    seen = _statements(engine)
    entry, deliveries = fill(_feeds(engine, settings), partner, "atom", FeedQuery(limit=3))
    reads = [s for s in seen if "FROM article" in s]
    assert [d.article_id for d in deliveries] == [1, 2, 3]
    assert not any("article.id IN" in s or "article.id = ANY" in s for s in reads), reads
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE article SET embargo_until = :until WHERE id <= 3"),
            {"until": NOW + timedelta(hours=1)},
        )
    asked: list[object] = []

    def by_id(_conn, _cursor, statement, parameters, *_):  # type: ignore[no-untyped-def]
        if "article.id IN" in statement or "article.id = ANY" in statement:
            asked.append(parameters)

    event.listen(engine, "before_cursor_execute", by_id)
    try:
        entry, deliveries = fill(_feeds(engine, settings), partner, "atom", FeedQuery(limit=3))
    finally:
        event.remove(engine, "before_cursor_execute", by_id)
    assert [d.article_id for d in deliveries] == [4, 5, 6]
    # One read, of the two rows the facts-only batch found: SQLite binds an expanded list,
    # PostgreSQL one array.
    [parameters] = asked
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert sorted(
        v for value in values for v in (value if isinstance(value, list) else [value])
    ) == [5, 6]
    feed = feedparser.parse(entry.body)
    assert [e.title for e in feed.entries] == ["H 4", "H 5", "H 6"]
    assert all("<p>b</p>" in e.content[0].value for e in feed.entries)
    assert [[t.term for t in e.tags] for e in feed.entries] == [
        ["news", "t4"],
        ["news", "t5"],
        ["news", "t6"],
    ]


def test_the_catalog_version_comes_with_the_partners_licenses(
    engine: Engine, settings: Settings
) -> None:
    """A render reads the catalog's version and the partner's licenses in one statement,
    answering what `catalog.current` and the licenses read answer apart: for a partner with
    two licenses, for one with none, and (read apart) for a database without the catalog's
    row."""
    partner_id = _seed(engine)
    with engine.begin() as conn:
        conn.execute(insert(License), [_license("more", "More")])
        conn.execute(insert(PartnerLicense), [{"partner_id": partner_id, "license": "more"}])
        conn.execute(insert(Partner), [
            {"slug": "bare", "name": "Bare", "audience": 1, "sees_embargoed": False,
             "active": True, "created_at": NOW, "updated_at": NOW}
        ])  # fmt: skip
        bare = conn.execute(text("SELECT id FROM partner WHERE slug = 'bare'")).scalar_one()
        conn.execute(
            text("UPDATE catalog_state SET version = 41, changed_at = :at, usage_upto = 7"),
            {"at": NOW},
        )
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
        version, changed_at, upto, aged, lics = _catalog_and_licenses(session, partner_id, NOW)
        apart = _licenses(session, partner_id)
        assert (version, changed_at) == catalog.current(session) == (41, NOW)
        assert upto == 7 and aged is None  # nothing withdrawn
        assert sorted(lics) == ["lic", "more"]
        assert {code: vars(lic) for code, lic in lics.items()} == {
            code: vars(lic) for code, lic in apart.items()
        }
        assert lics["more"].name == "More" and lics["more"].created_at == NOW
        assert _catalog_and_licenses(session, bare, NOW) == (41, NOW, 7, None, {})
    seen = _statements(engine)
    entry, _ = fill(_feeds(engine, settings), partner, "atom", FeedQuery())
    reads = [s for s in seen if "catalog_state" in s or "FROM license" in s]
    assert len(reads) == 1 and "catalog_state" in reads[0] and "FROM license" in reads[0], seen
    assert len(feedparser.parse(entry.body).entries) == PIECES
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM catalog_state"))
    with session_scope(engine, write=False) as session:
        version, _, upto, aged, lics = _catalog_and_licenses(session, partner_id, NOW)
        assert version == 1 and upto is None and aged is None and sorted(lics) == ["lic", "more"]


def test_related_pages_from_a_long_url_list(engine: Engine) -> None:
    partner = _seed(engine)
    urls = [f"https://news.example.org/{n}" for n in range(1, 150)]
    with session_scope(engine, write=False) as session:
        assert related_pages(session, partner, urls, upto=None) == {
            "https://news.example.org/2": "https://gazette.example/two"
        }
        assert related_pages(session, partner, urls[2:], upto=None) == {}
        assert related_pages(session, partner, [], upto=None) == {}


def _feeds(engine: Engine, settings: Settings) -> SimpleNamespace:
    """What `fill` needs of a worker's feed runtime."""
    return SimpleNamespace(engine=engine, settings=settings, clock=lambda: NOW)


def _prepare_renders(engine: Engine, settings: Settings, partner: Partner) -> None:
    """Renders enough for psycopg to prepare a render's statements (at their sixth run)."""
    for _ in range(8):
        fill(_feeds(engine, settings), partner, "atom", FeedQuery())


# A render's catalog read, which psycopg prepares (the scan is not prepared: db.UNPREPARED).
PREPARED_READ = "catalog_state.version"


def _prepared_statements(engine: Engine) -> list[str]:
    """The statements prepared on the pool's one connection, as earlier sessions left it."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()
    return [statement for (statement,) in rows]


@pytest.mark.parametrize("before", ["scan", "read by id"])
def test_a_render_sees_one_snapshot(engine: Engine, settings: Settings, before: str) -> None:
    """A write committed during a render does not reach it: a piece moves to a license the
    partner does not hold, and the render still shows it, under the license it held. The
    write lands after the render's first reads (the catalog version, the partner's licenses):
    just before the scan, or just before the read by id of a page's rest (here the three
    newest pieces are under embargo, so a 3-item page needs one). With a snapshot per
    statement (PostgreSQL's READ COMMITTED) the scan saw the move and dropped the piece, and
    the read by id answered it under a license the render never read, which failed it."""
    partner_id = _seed(engine)
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
    with engine.begin() as conn:
        conn.execute(insert(License), [_license("other", "Other")])
    query, moved, count = FeedQuery(), 1, PIECES
    if before == "read by id":
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE article SET embargo_until = :until WHERE id <= 3"),
                {"until": NOW + timedelta(hours=1)},
            )
        query, moved, count = FeedQuery(limit=3), 5, 3
    written: list[str] = []

    def write_between(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        scan = "article.body_html" in statement  # the scan's first batch reads whole rows
        by_id = "article.id IN" in statement or "article.id = ANY" in statement
        if (by_id if before == "read by id" else scan) and not written:
            written.append(statement)
            with engine.connect() as other, other.begin():
                other.execute(
                    text("UPDATE article SET license = 'other', headline = 'Moved' WHERE id = :id"),
                    {"id": moved},
                )

    event.listen(engine, "before_cursor_execute", write_between)
    try:
        entry, deliveries = fill(_feeds(engine, settings), partner, "atom", query)
    finally:
        event.remove(engine, "before_cursor_execute", write_between)
    assert written
    feed = feedparser.parse(entry.body)
    assert len(feed.entries) == count
    assert f"H {moved}" in {e.title for e in feed.entries} and "Moved" not in entry.body.decode()
    assert {d.license_code for d in deliveries} == {"lic"}
    with session_scope(engine, write=False) as session:  # the write itself did commit
        assert session.get_one(Article, moved).license == "other"


def test_a_render_reads_the_partner_again_once_the_catalog_moved_on(
    engine: Engine, settings: Settings
) -> None:
    """The partner comes from the request's key check, cached per catalog version. A write
    between that check and the render (here: a rename) is in the render's snapshot, so the
    render reads the partner's row again there; at the same version it reads nothing more."""
    partner_id = _seed(engine)
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
        seen_at, _ = catalog.current(session)
    with session_scope(engine) as session:
        session.get_one(Partner, partner_id).name = "Renamed Gazette"
        catalog.bump(session)
    seen = _statements(engine)
    entry, _ = fill(_feeds(engine, settings), partner, "atom", FeedQuery(), seen_at)
    assert feedparser.parse(entry.body).feed.title == "Syndicated pieces for Renamed Gazette"
    assert sum(bool(re.search(r"FROM partner\b", s)) for s in seen) == 1
    seen.clear()
    entry, _ = fill(_feeds(engine, settings), partner, "atom", FeedQuery(), seen_at + 1)
    assert feedparser.parse(entry.body).feed.title == "Syndicated pieces for Gazette"  # as given
    assert not any(re.search(r"FROM partner\b", s) for s in seen)


def test_a_render_keeps_prepared_statements_on_postgresql(
    engine: Engine, settings: Settings
) -> None:
    """On PostgreSQL a render reads in a REPEATABLE READ READ ONLY transaction that ends with
    COMMIT, so psycopg's prepared statements outlive it (a ROLLBACK would discard them)."""
    partner_id = _seed(engine)
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
    seen: list[tuple[str, str]] = []

    def check(conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        if engine.dialect.name == "postgresql" and not statement.startswith("SHOW"):
            seen.append(
                tuple(conn.exec_driver_sql(f"SHOW {name}").scalar()  # type: ignore[arg-type]
                      for name in ("transaction_isolation", "transaction_read_only"))
            )  # fmt: skip

    event.listen(engine, "before_cursor_execute", check)
    fill(_feeds(engine, settings), partner, "atom", FeedQuery())
    event.remove(engine, "before_cursor_execute", check)
    if engine.dialect.name != "postgresql":
        return
    assert set(seen) == {("repeatable read", "on")}
    _prepare_renders(engine, settings, partner)
    prepared = _prepared_statements(engine)
    assert any(PREPARED_READ in s for s in prepared), prepared
    with engine.connect() as conn:  # the pool's one connection, as the renders left it
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
    with session_scope(engine) as session:  # the next writer writes, at the default level
        session.execute(text("UPDATE catalog_state SET version = version + 1"))


def test_reads_on_the_request_path_keep_the_prepared_statements(
    engine: Engine, settings: Settings
) -> None:
    """Key checks, pixel checks and other short reads end with COMMIT (db.session_scope), not
    the ROLLBACK of a closed session, at which psycopg forgets the connection's prepared
    statements: after each of them the next render found its statements unprepared."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: psycopg's prepared statements")
    partner_id = _seed(engine)
    with session_scope(engine) as session:
        partner = session.get_one(Partner, partner_id)
        secret = issue_key(session, "gazette").key
    feeds = _feeds(engine, settings)
    _prepare_renders(engine, settings, partner)
    _authenticate(feeds, secret)  # records the key's first use: a write, committed
    _authenticate(feeds, secret)  # used a moment ago: only reads
    _with_session(engine, False, lambda session: session.execute(text("SELECT 1")))
    assert counted(engine, PixelHit(partner_id, 1, None, NOW))
    prepared = _prepared_statements(engine)
    assert any(PREPARED_READ in s for s in prepared), prepared


def test_a_staff_api_read_keeps_the_prepared_statements(
    engine: Engine, settings: Settings, client: TestClient, staff_headers: dict[str, str]
) -> None:
    """A GET handler's session (deps.provide_db) ends with COMMIT as well."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: psycopg's prepared statements")
    partner_id = _seed(engine)
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
    _prepare_renders(engine, settings, partner)
    assert client.get("/api/v1/licenses", headers=staff_headers).status_code == 200
    prepared = _prepared_statements(engine)
    assert any(PREPARED_READ in s for s in prepared), prepared


def test_timestamps_come_back_in_utc(engine: Engine) -> None:
    """PostgreSQL sessions run in UTC (make_engine), so psycopg answers datetime.UTC itself
    and UTCDateTime converts nothing; either way every timestamp read is in datetime.UTC."""
    _seed(engine)
    with session_scope(engine, write=False) as session:
        conn = session.connection()
        if engine.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SELECT now()").scalar().tzinfo is UTC
        rows = conn.execute(_page_query(engine.dialect.name), {"ids": [1, 2]}).all()
    for row in rows:
        assert row.published_at.tzinfo is UTC and row.created_at.tzinfo is UTC
        assert row.embargo_until is None


def test_the_last_window_closure_is_one_statement_for_every_windowed_license(
    engine: Engine,
) -> None:
    """`last_closure`: the latest moment a license window closed on a published piece (a
    feed's Last-Modified must not predate it), read in one statement however many of the
    partner's licenses have a window; none without a windowed license."""
    windows = {"two-days": 2, "ten-days": 10, "open": None}
    with engine.begin() as conn:
        conn.execute(insert(License), [
            {**_license(code, code), "window_days": days} for code, days in windows.items()
        ])  # fmt: skip
        conn.execute(insert(Article), [
            {"slug": f"w-{n}", "headline": "H", "summary": "", "body_html": "<p>b</p>",
             "byline": "", "section": "news", "tags": [], "copyright_holder": "H",
             "canonical_url": f"https://news.example.org/w/{n}", "license": code,
             "published_at": NOW - timedelta(hours=hours), "status": status,
             "withdrawn_at": NOW if status == "withdrawn" else None, "source_credits": [],
             "images": [], "corrections": [], "related": [], "created_at": NOW,
             "updated_at": NOW}
            for n, (code, hours, status) in enumerate([
                ("two-days", 5 * 24, "published"),  # closed 3 days ago
                ("two-days", 24, "published"),  # open for another day
                ("ten-days", 11 * 24, "published"),  # closed a day ago: the latest
                ("ten-days", 30 * 24, "published"),  # closed 20 days ago
                ("ten-days", 10 * 24 + 12, "withdrawn"),  # would have closed 12 hours ago
                ("open", 100 * 24, "published"),  # no window
            ])
        ])  # fmt: skip
    licenses = {
        code: SimpleNamespace(code=code, window_days=days) for code, days in windows.items()
    }
    seen = _statements(engine)
    with session_scope(engine, write=False) as session:
        both = last_closure(session, licenses, NOW)  # type: ignore[arg-type]
        reads = [s for s in seen if "FROM article" in s]
        one = last_closure(session, {"two-days": licenses["two-days"]}, NOW)  # type: ignore[arg-type]
        later = last_closure(session, licenses, NOW - timedelta(days=4))  # type: ignore[arg-type]
        seen.clear()
        none = last_closure(session, {"open": licenses["open"]}, NOW)  # type: ignore[arg-type]
    assert both == NOW - timedelta(days=1)
    assert len(reads) == 1 and "UNION ALL" in reads[0], reads
    assert one == NOW - timedelta(days=3)
    assert later == NOW - timedelta(days=20)  # four days back, only the 30-day-old piece had
    assert none is None and not [s for s in seen if "FROM article" in s]


def test_an_unprepared_read_can_still_be_streamed(engine: Engine) -> None:
    """db.UNPREPARED runs a read with psycopg's prepare=False; a server-side cursor (streamed
    results) takes no such argument, and is left to SQLAlchemy."""
    statement = select(literal_column("1")).execution_options(**{UNPREPARED: True})
    with engine.connect() as conn:
        assert conn.execution_options(stream_results=True).execute(statement).all() == [(1,)]
        assert conn.execute(statement).all() == [(1,)]


def _round_trips(trace: str) -> list[str]:
    """What the client sent before each wait for the server, from libpq's trace: each batch of
    messages ends with a Sync (extended protocol) or is one Query (simple protocol). A
    statement is named by its first word, or "prepared" (a Bind of one prepared earlier).
    The round trip in which psycopg prepares a statement (at its sixth run) is left out: it
    comes once per statement and connection."""
    trips: list[str] = []
    batch: list[str] = []
    parsed = ""
    for line in trace.splitlines():  # a statement's later lines carry no message of their own
        direction, _length, message, *rest = [*line.split("\t"), "", ""]
        if direction != "F":
            continue
        if message == "Parse":
            parsed = rest[0].split('"')[3].split()[0]
        elif message == "Bind" and rest[0].split('"')[3]:  # a named, prepared statement
            parsed = "prepared"
        elif message == "Execute":
            batch.append(parsed)
        elif message in ("Sync", "Query"):
            label = " + ".join(batch) if batch else rest[0].strip()
            if label:  # not psycopg preparing a statement at its sixth run (Parse, Sync)
                trips.append(label)
            batch = []
    return trips


class _Traced:
    """A make_engine engine whose every connection writes libpq's trace from its first
    message; `since_mark` answers the round trips sent since `mark`."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.engine = make_engine(settings)
        self.folder = folder
        self.paths: list[Path] = []
        self.sizes: list[int] = []
        event.listen(self.engine, "connect", self._trace)

    def _trace(self, dbapi_connection, _record):  # type: ignore[no-untyped-def]
        self.paths.append(self.folder / f"trace-{len(self.paths)}")
        out = self.paths[-1].open("w")
        dbapi_connection.pgconn.trace(out.fileno())
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        dbapi_connection._test_trace = out  # kept open while the connection lives

    def mark(self) -> None:
        self.sizes = [path.stat().st_size for path in self.paths]

    def since_mark(self) -> list[str]:
        """The round trips of the one connection that sent anything since `mark`."""
        sizes = self.sizes + [0] * (len(self.paths) - len(self.sizes))
        sent = [path.read_text()[size:] for path, size in zip(self.paths, sizes, strict=True)]
        [render] = [trace for trace in sent if trace]
        return _round_trips(render)


@pytest.fixture
def traced(settings: Settings, tmp_path: Path) -> Iterator[_Traced]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: its protocol")
    found = _Traced(settings, tmp_path)
    try:
        yield found
    finally:
        found.engine.dispose()


def test_a_render_waits_for_three_round_trips_on_postgresql(
    traced: _Traced, settings: Settings
) -> None:
    """On PostgreSQL a first page's render waits for the server three times: the pool's ping;
    BEGIN with the catalog read and the scan (built from the licenses the worker read for this
    partner last time, with the tombstone candidates in one statement); the related pages with
    COMMIT. Each round trip cost a cold render 0.2-0.3 ms here; it waited for seven (BEGIN,
    the scan, the tombstones and COMMIT apart). A worker's first render of a partner has no
    licenses to go by: it waits for one more, the scan after the catalog read."""
    engine = traced.engine
    partner_id = _seed(engine)
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
    traced.mark()
    fill(_feeds(engine, settings), partner, "atom", FeedQuery())
    first = traced.since_mark()
    _prepare_renders(engine, settings, partner)  # prepared statements, as a warm worker
    traced.mark()
    entry, deliveries = fill(_feeds(engine, settings), partner, "atom", FeedQuery())
    warm = traced.since_mark()
    assert [d.article_id for d in deliveries] == list(range(1, PIECES + 1))
    assert b'rel="related"' in entry.body  # pieces with related links: their pages are read
    assert first == ['";"', "BEGIN + SELECT", "SELECT", "SELECT + COMMIT"], first
    assert warm == ['";"', "BEGIN + prepared + SELECT", "prepared + COMMIT"], warm


def test_a_render_scans_again_when_the_licenses_it_went_by_have_changed(
    traced: _Traced, settings: Settings
) -> None:
    """The scan sent with the catalog read goes by the licenses the worker read last time for
    the partner. When they have changed since (a grant withdrawn, a license's window set), or
    the partner's own facts have (its audience, read again once the catalog moved on), the
    render scans again with what it read, in the same snapshot; an edit of what the scan does
    not read (a license's terms) keeps the first scan. Either way its feed is the one a
    worker with no such memory renders, byte for byte."""
    engine = traced.engine
    partner_id = _seed(engine)
    with engine.begin() as conn:
        conn.execute(insert(License), [{**_license("wide", "Wide"), "min_audience": 500}])
        conn.execute(insert(PartnerLicense), [{"partner_id": partner_id, "license": "wide"}])
        conn.execute(text("UPDATE article SET license = 'wide' WHERE id IN (1, 4)"))
    with session_scope(engine, write=False) as session:
        partner = session.get_one(Partner, partner_id)
        seen_at, _ = catalog.current(session)
    fill(_feeds(engine, settings), partner, "atom", FeedQuery())  # the worker remembers
    changes = {  # each change; whether piece 1 (under 'wide') is still shown; round trips
        "DELETE FROM partner_license WHERE license = 'wide'": (False, 5),
        "UPDATE license SET window_days = 1 WHERE code = 'lic'": (True, 6),  # and the closure
        "UPDATE partner SET audience = 100": (False, 5),  # below 'wide''s minimum
        "UPDATE license SET min_audience = 5000 WHERE code = 'wide'": (False, 5),  # above it
        # Nothing the scan reads: the scan sent with the catalog read is kept.
        "UPDATE license SET terms = 'New terms.', updated_at = now() WHERE code = 'lic'": (
            True,
            4,
        ),
    }
    for change, (shown, waits) in changes.items():
        with session_scope(engine) as session:
            session.execute(text(change))
            catalog.bump(session)
        traced.mark()
        entry, deliveries = fill(_feeds(engine, settings), partner, "atom", FeedQuery(), seen_at)
        # The ping; BEGIN with the catalog read and the scan; the partner's row (the catalog
        # moved on); the scan again; the related pages with COMMIT (and the window closures).
        trips = traced.since_mark()
        assert len(trips) == waits, (change, trips)
        # BEGIN, the catalog read (prepared by the third change) and the scan, at once
        assert trips[1] in ("BEGIN + SELECT + SELECT", "BEGIN + prepared + SELECT"), trips
        fresh = make_engine(settings)  # a worker that has rendered nothing yet
        try:
            again, _ = fill(_feeds(fresh, settings), partner, "atom", FeedQuery(), seen_at)
        finally:
            fresh.dispose()
        assert entry.body == again.body, change
        assert (1 in {d.article_id for d in deliveries}) is shown, change
        with engine.begin() as conn:  # back as it was, for the next change
            conn.execute(
                text("DELETE FROM partner_license WHERE partner_id = :p"), {"p": partner_id}
            )
            conn.execute(
                insert(PartnerLicense),
                [{"partner_id": partner_id, "license": c} for c in ("lic", "wide")],
            )
            conn.execute(text("UPDATE license SET window_days = NULL, terms = ''"))
            conn.execute(text("UPDATE license SET min_audience = 500 WHERE code = 'wide'"))
            conn.execute(text("UPDATE partner SET audience = 1000"))
        fill(_feeds(engine, settings), partner, "atom", FeedQuery())  # remembered again


def test_a_read_snapshot_refuses_a_statement_after_the_read_that_ended_it(
    engine: Engine,
) -> None:
    """ENDS_SNAPSHOT commits with the read it marks; a statement after it would read another
    snapshot of the database, so on PostgreSQL it raises (SQLite's transaction lasts to the
    session's end, and the option changes nothing there). The session's own end is then a
    rollback, and the pool's connection is left fit for the next read."""
    last = select(literal_column("1")).execution_options(**{ENDS_SNAPSHOT: True})
    if engine.dialect.name != "postgresql":
        with read_snapshot(engine) as session:
            assert session.execute(last).all() == [(1,)]
            assert session.execute(select(literal_column("2"))).all() == [(2,)]
        return
    # The engine, and a copy of it with options of its own (the same pool and hooks).
    for snapshots in (engine, engine.execution_options(logging_token="copy")):
        with pytest.raises(SnapshotMisuse), read_snapshot(snapshots) as session:
            assert session.execute(last).all() == [(1,)]
            session.execute(select(literal_column("2")))
    with read_snapshot(engine) as session:  # a fresh snapshot on the same pool
        level = session.execute(text("SHOW transaction_isolation")).scalar()
        assert level == "repeatable read"
        assert session.execute(text("SHOW transaction_read_only")).scalar() == "on"
    with pytest.raises(SnapshotMisuse), read_snapshot(engine) as session:
        session.execute(text("SELECT 1"))
        session.connection().exec_driver_sql("SELECT %(n)s", [{"n": 1}, {"n": 2}])


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_failed_read_in_a_snapshot_rolls_it_back(engine: Engine, where: str) -> None:
    """An error in the read sent with BEGIN, or in the one sent with COMMIT, fails that read;
    the session rolls back and the connection serves the next snapshot, and the next writer,
    at the pool's defaults."""
    failing = select(literal_column("no_such_column")).select_from(text("catalog_state"))
    if where == "last":
        failing = failing.execution_options(**{ENDS_SNAPSHOT: True})
    with pytest.raises(DBAPIError), read_snapshot(engine) as session:
        if where == "last":
            session.execute(text("SELECT 1"))
        session.execute(failing)
    with read_snapshot(engine) as session:
        assert session.execute(text("SELECT 2")).scalar() == 2
    with session_scope(engine) as session:
        session.execute(text("UPDATE catalog_state SET version = version + 1"))
        if engine.dialect.name == "postgresql":
            isolation = session.execute(text("SHOW transaction_isolation")).scalar()
            assert isolation == "read committed"


def test_a_snapshot_can_stream_its_first_read(engine: Engine) -> None:
    """A server-side cursor (streamed results) is declared, so it needs the snapshot's
    transaction begun first; it takes its own BEGIN and sees the snapshot's isolation."""
    with read_snapshot(engine) as session:
        streamed = select(literal_column("1")).execution_options(stream_results=True)
        assert session.execute(streamed).all() == [(1,)]
        if engine.dialect.name == "postgresql":
            level = session.execute(text("SHOW transaction_isolation")).scalar()
            assert level == "repeatable read"


def test_a_streamed_read_cannot_end_a_snapshot(engine: Engine) -> None:
    """A server-side cursor fetches its rows after the call, in the snapshot's transaction: a
    streamed read marked ENDS_SNAPSHOT is refused rather than left open or cut short."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: server-side cursors")
    last = select(literal_column("1")).execution_options(
        **{ENDS_SNAPSHOT: True}, stream_results=True
    )
    with pytest.raises(SnapshotMisuse, match="streamed"), read_snapshot(engine) as session:
        session.execute(last).all()


def test_a_snapshot_on_an_engine_of_another_making_is_one_snapshot_still(
    settings: Settings,
) -> None:
    """read_snapshot pipelines BEGIN only where make_engine installed the hook that sends it;
    on any other psycopg engine it sets the isolation on the connection, as before."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    other = create_engine(settings.database_url)
    try:
        with read_snapshot(other) as session:
            level = session.execute(text("SHOW transaction_isolation")).scalar()
            assert level == "repeatable read"
            assert session.execute(text("SHOW transaction_read_only")).scalar() == "on"
    finally:
        other.dispose()


def test_a_first_pages_scan_with_its_tombstones_answers_as_both_apart(engine: Engine) -> None:
    """scan_page(with_tombstones=True), one UNION ALL statement (PostgreSQL's first pages),
    answers the page and the tombstone candidates that the scan and `tombstones` read apart,
    on both databases, for the whole page, a short one and a section."""
    _seed(engine)
    with engine.begin() as conn:  # four withdrawn, three of them in the last 30 days
        for ident, days in ((3, 1), (5, 10), (6, 40), (7, 2)):
            conn.execute(
                text("UPDATE article SET status = 'withdrawn', withdrawn_at = :at WHERE id = :id"),
                {"at": NOW - timedelta(days=days), "id": ident},
            )
        conn.execute(text("UPDATE article SET section = 'sport' WHERE id IN (2, 4, 7)"))
        # `since` reads a listed piece's updated_at and a tombstone's withdrawn_at
        conn.execute(text("UPDATE article SET updated_at = :at WHERE id IN (1, 2)"), {"at": NOW})
        conn.execute(
            text("UPDATE article SET updated_at = :at WHERE id > 2"),
            {"at": NOW - timedelta(days=5)},
        )
    with session_scope(engine, write=False) as session:
        partner = PartnerSnapshot.of(session.get_one(Partner, 1))
        lics = {lic.code: lic for lic in session.execute(select(License)).scalars()}
        granted = sorted(lics)
        expected = {  # (listed, tombstones) for each query
            FeedQuery(): ([1, 2, 4, 8], [3, 7, 5]),
            FeedQuery(limit=2): ([1, 2], [3, 7, 5]),
            FeedQuery(section="sport"): ([2, 4], [7]),
            FeedQuery(since=NOW - timedelta(days=3)): ([1, 2], [3, 7]),
        }
        for query, (listed, stones) in expected.items():
            apart = scan_page(session, partner, granted, lics, query, NOW)
            gone, ages_out = tombstones(session, partner, granted, lics, query, NOW)
            both = scan_page(session, partner, granted, lics, query, NOW, with_tombstones=True)
            merged, merged_ages_out = tombstones_of(both.withdrawn, partner, granted, lics, NOW)
            assert both == apart and both.loaded.keys() == apart.loaded.keys()
            assert [ident for ident, _, _ in both.rows] == listed, query
            assert [w.article.id for w in merged] == [w.article.id for w in gone] == stones
            oldest = NOW - timedelta(days={3: 1, 7: 2, 5: 10}[stones[-1]])
            assert merged_ages_out == ages_out == oldest + timedelta(days=TOMBSTONE_DAYS)
