"""The SQL narrowing never drops a row that `decide` would grant, or tombstone."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from syndication.articles.models import Article
from syndication.feeds.listing import Page, scan_page, split_union, tombstones, tombstones_of
from syndication.feeds.query import Cursor, FeedQuery
from syndication.licensing.candidates import (
    TOMBSTONE_DAYS,
    listing_template,
    listing_values,
    tombstone_template,
    tombstone_values,
)
from syndication.licensing.entitlement import Verdict, decide
from syndication.licensing.models import License
from syndication.tables import metadata

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CODES = ["free", "paid", "local"]
SECTIONS = ["politics", "sport", "health"]


@dataclass(frozen=True)
class P:
    active: bool
    audience: int
    sees_embargoed: bool
    sections: list[str] | None


@dataclass(frozen=True)
class L:
    code: str
    name: str
    min_audience: int
    window_days: int | None


@dataclass(frozen=True)
class A:
    id: int
    status: str
    section: str
    license: str
    published_at: datetime
    embargo_until: datetime | None
    withdrawn_at: datetime | None


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(License),
            [
                {"code": c, "name": c, "url": "https://x.example/", "credit_line": "x",
                 "contact_email": "a@x.example", "created_at": T0, "updated_at": T0}
                for c in CODES
            ],
        )  # fmt: skip
    return engine


offsets = st.integers(-90 * 86400, 90 * 86400).map(lambda s: timedelta(seconds=s))
# Exact boundaries matter most: a window or tombstone closing at `now` to the microsecond.
moments = st.one_of(
    offsets.map(lambda d: T0 + d),
    st.sampled_from([T0 - timedelta(days=2), T0 - timedelta(days=TOMBSTONE_DAYS), T0]),
)


@st.composite
def articles(draw: st.DrawFn, index: int) -> A:
    status = draw(st.sampled_from(["published", "withdrawn"]))
    published = draw(moments)
    return A(
        id=index + 1,
        status=status,
        section=draw(st.sampled_from(SECTIONS)),
        license=draw(st.sampled_from(CODES)),
        published_at=published,
        embargo_until=draw(st.none() | moments.filter(lambda m: m >= published)),
        withdrawn_at=draw(moments) if status == "withdrawn" else None,
    )


partners = st.builds(
    P,
    active=st.booleans(),
    audience=st.sampled_from([0, 5_000, 10_000, 250_000]),
    sees_embargoed=st.booleans(),
    sections=st.none() | st.lists(st.sampled_from(SECTIONS), max_size=3, unique=True),
)
licenses = st.tuples(
    *[
        st.builds(
            L,
            code=st.just(code),
            name=st.just(code),
            min_audience=st.sampled_from([0, 10_000, 100_000]),
            window_days=st.none() | st.sampled_from([1, 2, 30]),
        )
        for code in CODES
    ]
)


def _row(a: A) -> dict:
    return {
        "id": a.id, "slug": f"p{a.id}", "headline": "h", "body_html": "<p>b</p>",
        "section": a.section, "canonical_url": "https://x.example/p", "copyright_holder": "X",
        "published_at": a.published_at, "embargo_until": a.embargo_until,
        "license": a.license, "status": a.status, "withdrawn_at": a.withdrawn_at,
        "created_at": T0, "updated_at": T0,
    }  # fmt: skip


examples = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
grants = st.lists(st.sampled_from(CODES), unique=True)
catalogs = st.lists(st.integers(0, 0), min_size=1, max_size=12).flatmap(
    lambda xs: st.tuples(*[articles(i) for i in range(len(xs))])
)
# What both property tests draw: a partner, its grants, the licenses, a catalog and a moment.
worlds = {"partner": partners, "granted": grants, "lics": licenses, "pieces": catalogs,
          "now": moments}  # fmt: skip


def _store(engine: Engine, pieces: tuple[A, ...]) -> None:
    """The catalog is exactly `pieces` (each example starts from the last one's table)."""
    with engine.begin() as conn:
        conn.execute(delete(Article))
        conn.execute(insert(Article), [_row(a) for a in pieces])


@examples
@given(**worlds)
def test_sql_narrowing_keeps_every_row_decide_would_grant(
    engine: Engine, partner: P, granted: list[str], lics: tuple[L, ...], pieces: tuple[A, ...],
    now: datetime,
) -> None:  # fmt: skip
    by_code = {lic.code: lic for lic in lics}
    _store(engine, pieces)
    with engine.begin() as conn:
        shape, values = listing_values(partner, granted, lics, now)
        listed = set(conn.scalars(select(Article.id).where(listing_template(shape)), values))
        shape_w, values_w = tombstone_values(partner, granted, lics, now)
        tombs = set(conn.scalars(select(Article.id).where(tombstone_template(shape_w)), values_w))
    for a in pieces:
        verdict = decide(partner, granted, a, by_code[a.license], now).verdict
        if verdict in (Verdict.ENTITLED, Verdict.EMBARGOED):
            assert a.id in listed, (a, verdict)
        if verdict is Verdict.WITHDRAWN and a.withdrawn_at > now - timedelta(days=TOMBSTONE_DAYS):
            assert a.id in tombs, a
        # A narrowing that keeps what decide refuses for a static reason would be no narrowing.
        if verdict is Verdict.NOT_ENTITLED:
            assert a.id not in listed and a.id not in tombs, a


def _in_order(pieces: tuple[A, ...], newest_first: bool = True) -> list[A]:
    return sorted(pieces, key=lambda a: (a.published_at, a.id), reverse=newest_first)


queries = st.builds(
    FeedQuery,
    limit=st.integers(1, 5),
    cursor=st.none()
    | st.builds(Cursor, older=st.booleans(), published_at=moments, id=st.integers(0, 13)),
    section=st.none() | st.sampled_from(SECTIONS),
    since=st.none() | moments,
)


@examples
@given(**worlds, query=queries, anchor=st.none() | st.integers(0, 11))
def test_statements_built_once_per_shape_answer_what_the_rule_does(
    engine: Engine, partner: P, granted: list[str], lics: tuple[L, ...], pieces: tuple[A, ...],
    query: FeedQuery, anchor: int | None, now: datetime,
) -> None:  # fmt: skip
    """scan_page and tombstones run statements cached by shape with the call's values bound:
    their answer must be the rule's, applied to every piece in Python, whatever the shape."""
    if query.cursor is not None and anchor is not None:  # a cursor on a piece, as served
        at = pieces[anchor % len(pieces)]
        query = replace(query, cursor=replace(query.cursor, published_at=at.published_at, id=at.id))
    by_code = {lic.code: lic for lic in lics}
    _store(engine, pieces)
    with Session(engine) as session:
        page = scan_page(session, partner, granted, by_code, query, now)  # type: ignore[arg-type]
        gone, _ = tombstones(session, partner, granted, by_code, query, now)  # type: ignore[arg-type]
        if query.first_page:  # the scan and the tombstones in one statement answer the same
            _same_with_tombstones(session, partner, granted, by_code, query, now, page)
        else:
            with pytest.raises(ValueError, match="first page"):
                scan_page(session, partner, granted, by_code, query, now, with_tombstones=True)  # type: ignore[arg-type]

    def verdict(a: A) -> Verdict:
        return decide(partner, granted, a, by_code[a.license], now).verdict

    def filtered(a: A, moment: datetime | None) -> bool:
        return (query.section is None or a.section == query.section) and (
            query.since is None or (moment is not None and moment >= query.since)
        )

    cursor = query.cursor
    backwards = cursor is not None and not cursor.older
    listed = [
        a
        for a in _in_order(pieces, newest_first=not backwards)
        if verdict(a) is Verdict.ENTITLED
        and filtered(a, T0)  # every row's updated_at is T0
        and (
            cursor is None
            or (
                ((a.published_at, a.id) < (cursor.published_at, cursor.id)) is cursor.older
                and (a.published_at, a.id) != (cursor.published_at, cursor.id)
            )
        )
    ][: query.limit]
    if backwards:
        listed.reverse()
    assert [ident for ident, _, _ in page.rows] == [a.id for a in listed]
    stones = sorted(
        (
            a
            for a in pieces
            if verdict(a) is Verdict.WITHDRAWN
            and a.withdrawn_at is not None
            and a.withdrawn_at > now - timedelta(days=TOMBSTONE_DAYS)
            and filtered(a, a.withdrawn_at)
        ),
        key=lambda a: (a.withdrawn_at, a.id),
        reverse=True,
    )
    assert [w.article.id for w in gone] == [a.id for a in stones]


def _same_with_tombstones(
    session: Session,
    partner: P,
    granted: list[str],
    by_code: dict[str, L],
    query: FeedQuery,
    now: datetime,
    page: Page,
) -> list[int]:
    """`scan_page(with_tombstones=True)` (one statement, PostgreSQL's first pages) answers the
    page `page` is, and the tombstones `tombstones` reads apart; answers their ids."""
    both = scan_page(session, partner, granted, by_code, query, now, with_tombstones=True)  # type: ignore[arg-type]
    assert both == page and both.loaded.keys() == page.loaded.keys()
    gone, ages_out = tombstones(session, partner, granted, by_code, query, now)  # type: ignore[arg-type]
    merged, merged_ages_out = tombstones_of(both.withdrawn, partner, granted, by_code, now)  # type: ignore[arg-type]
    ids = [w.article.id for w in gone]
    assert [w.article.id for w in merged] == ids and merged_ages_out == ages_out
    assert [w.license for w in merged] == [w.license for w in gone]
    return ids


def test_a_first_page_reads_its_tombstones_with_its_scan(engine: Engine) -> None:
    """A catalog with tombstones of several ages and licenses, pieces under embargo and
    pieces the partner may not have: the union (scan_page(with_tombstones=True)) answers the
    scan's page and the tombstones' own read, with no filter and with each filter."""
    now = T0
    pieces = tuple(
        A(
            id=n + 1,
            status="withdrawn" if n % 3 == 0 else "published",
            section=SECTIONS[n % 7 % 3],
            license=CODES[n % 4 % 3],
            published_at=now - timedelta(days=n),
            embargo_until=now + timedelta(hours=1) if n % 5 == 1 else None,
            withdrawn_at=now - timedelta(days=n * 3 % 45) if n % 3 == 0 else None,
        )
        for n in range(30)
    )
    _store(engine, pieces)
    partner = P(active=True, audience=10_000, sees_embargoed=False, sections=None)
    lics = {c: L(c, c, 0, None) for c in CODES}
    granted = ["free", "local"]
    with Session(engine) as session:
        for query in (FeedQuery(limit=5), FeedQuery(limit=50), FeedQuery(section="sport"),
                      FeedQuery(since=now - timedelta(days=20))):  # fmt: skip
            page = scan_page(session, partner, granted, lics, query, now)  # type: ignore[arg-type]
            ids = _same_with_tombstones(session, partner, granted, lics, query, now, page)
            if query.since is None and query.section is None:
                assert len(ids) >= 3, ids  # tombstones under both licenses, newest first


def test_the_unions_rows_are_put_back_in_each_branchs_order() -> None:
    """UNION ALL promises no order: split_union sorts each branch's rows again (listed: newest
    published first; withdrawn: newest withdrawal first, ties by id, highest first)."""
    rows = [
        SimpleNamespace(part=1, id=4, published_at=T0, withdrawn_at=T0 - timedelta(days=2)),
        SimpleNamespace(part=0, id=1, published_at=T0 - timedelta(days=1), withdrawn_at=None),
        SimpleNamespace(part=1, id=5, published_at=T0, withdrawn_at=T0),
        SimpleNamespace(part=0, id=2, published_at=T0, withdrawn_at=None),
        SimpleNamespace(part=0, id=3, published_at=T0, withdrawn_at=None),
        SimpleNamespace(part=1, id=6, published_at=T0, withdrawn_at=T0 - timedelta(days=2)),
    ]
    listed, withdrawn = split_union(rows)
    assert [row.id for row in listed] == [3, 2, 1]
    assert [row.id for row in withdrawn] == [5, 6, 4]
