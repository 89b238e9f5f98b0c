"""A partner's feed, as a FeedView: the page's pieces, tombstones, links and timestamps."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Integer, Select, bindparam, func, select, true
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool
from sqlmodel import col

from syndication import catalog
from syndication.accountability.ledger import Delivery, related_pages
from syndication.articles.models import Article
from syndication.catalog import CatalogState
from syndication.db import SNAPSHOT, Alongside, constant, in_list
from syndication.feeds.listing import (
    Page,
    Withdrawal,
    as_namespaces,
    last_closure,
    namespaces,
    scan_page,
    tombstones,
    tombstones_of,
)
from syndication.feeds.query import Cursor, FeedQuery
from syndication.feeds.view import FeedItem, FeedView, PageLinks, Tombstone, scrubbed
from syndication.fields import strip_xml_invalid
from syndication.licensing.candidates import TOMBSTONE_DAYS
from syndication.licensing.entitlement import PartnerSnapshot, available_from
from syndication.licensing.models import License
from syndication.partners.models import Partner, PartnerLicense
from syndication.republish.access import view_for
from syndication.republish.render import render_fragment
from syndication.republish.view import tag_uri
from syndication.settings import Settings

FEED_PATHS = {"atom": "/feeds/atom.xml", "rss": "/feeds/rss.xml", "json": "/feeds/feed.json"}


@dataclass(frozen=True)
class BuiltFeed:
    view: FeedView
    deliveries: tuple[Delivery, ...]  # for the ledger: exactly what this render hands out
    last_modified: datetime  # never earlier than any change the partner could see
    expires_at: datetime | None  # when the answer changes by time alone


def feed_id(settings: Settings, partner: Partner) -> str:
    return f"tag:{settings.authority},{partner.created_at:%Y-%m-%d}:feed:{partner.id}"


@lru_cache(maxsize=2)
def _page_query(dialect: str) -> Select:
    """Every column of the page's articles the scan read only in part (a page its first batch
    did not fill), by id; built once per dialect, with bind parameters. PostgreSQL takes the
    ids as one array (`= ANY(:ids)`): one statement text for every page, where an expanded IN
    list is re-rendered, sent and parsed per length."""
    table = Article.__table__  # type: ignore[attr-defined]
    return select(*table.columns).where(in_list(col(Article.id), "ids", Integer, dialect))


@lru_cache(maxsize=1)
def _licenses_query() -> Select:
    table = License.__table__  # type: ignore[attr-defined]
    return (
        select(*table.columns)
        .join(PartnerLicense, col(PartnerLicense.license) == col(License.code))
        .where(col(PartnerLicense.partner_id) == bindparam("partner_id"))
    )


def _licenses(session: Session, partner_id: int) -> dict[str, License]:
    """The partner's licenses by code, as namespaces like the page's articles: read-only, and
    a feed reads their attributes for every row it scans and every piece it renders."""
    result = session.connection().execute(_licenses_query(), {"partner_id": partner_id})
    return {lic.code: lic for lic in namespaces(result)}


@lru_cache(maxsize=1)
def _catalog_and_licenses_query() -> Select:
    """The catalog's row outer-joined to the partner's licenses: one row per license, each
    carrying the catalog's version and time, the newest withdrawal under the partner's
    licenses that is old enough to have left the feeds (`aged_before`), or one row of those
    alone for a partner that holds none."""
    held = _licenses_query().subquery("held")
    partner_codes = select(col(PartnerLicense.license)).where(
        col(PartnerLicense.partner_id) == bindparam("partner_id")
    )
    aged = (
        select(func.max(col(Article.withdrawn_at)))
        .where(  # on ix_article_license_status_withdrawn, per license
            col(Article.license).in_(partner_codes),
            col(Article.status) == constant("withdrawn"),
            col(Article.withdrawn_at) <= bindparam("aged_before"),
        )
        .scalar_subquery()
        .label("aged")
    )
    state = (col(CatalogState.version), col(CatalogState.changed_at), col(CatalogState.usage_upto))
    return select(*state, aged, *held.c).select_from(CatalogState).outerjoin(held, true())


class CatalogRead(NamedTuple):
    version: int
    changed_at: datetime
    usage_upto: int | None  # None: a database without the catalog's row
    last_aged: datetime | None  # when the newest tombstone that has aged out was withdrawn
    licenses: dict[str, License]


def _catalog_values(partner_id: int, now: datetime) -> dict[str, Any]:
    return {"partner_id": partner_id, "aged_before": now - timedelta(days=TOMBSTONE_DAYS)}


def _catalog_and_licenses(session: Session, partner_id: int, now: datetime) -> CatalogRead:
    """`catalog.current`, `CatalogState.usage_upto`, the newest withdrawal whose tombstone has
    left the feed by `now`, and `_licenses`, in one statement, so a render on PostgreSQL waits
    for no round trip more (each was 0.17-0.21 ms here). A database without the catalog's row
    (`db upgrade` writes it) reads version and licenses apart."""
    values = _catalog_values(partner_id, now)
    result = session.connection().execute(_catalog_and_licenses_query(), values)
    return _catalog_read(session, partner_id, tuple(result.keys()), result.all())


@lru_cache(maxsize=4)
def _catalog_sql(dialect: Dialect) -> str:
    """`_catalog_and_licenses_query` as SQLAlchemy sends it to this dialect's driver."""
    return _catalog_and_licenses_query().compile(dialect=dialect).string


def _catalog_read(
    session: Session, partner_id: int, keys: Sequence[str], rows: Sequence[Sequence[Any]]
) -> CatalogRead:
    names = tuple(keys)[4:]
    if not rows:
        version, changed_at = catalog.current(session)
        return CatalogRead(version, changed_at, None, None, _licenses(session, partner_id))
    lics = as_namespaces(names, (row[4:] for row in rows))
    version, changed_at, upto, aged = rows[0][:4]
    licenses = {lic.code: lic for lic in lics if lic.code is not None}
    return CatalogRead(version, changed_at, upto, aged, licenses)


def _items(
    session: Session,
    settings: Settings,
    partner: Partner,
    page: Page,
    lics: dict[str, License],
    now: datetime,
    usage_upto: int | None,
) -> tuple[tuple[FeedItem, ...], list[datetime], tuple[Delivery, ...]]:
    """The page's items, for each the moment it became visible, and the ledger's rows.
    Related links take the partner's pages first seen up to `usage_upto` (the catalog's)."""
    assert partner.id is not None
    articles = page.loaded  # the scan's first batch; every row of the page, unless embargoed
    # or otherwise refused rows left it short
    missing = [ident for ident, _, _ in page.rows if ident not in articles]
    if missing:
        # Core rows, not ORM objects: the page is read-only, and identity-map bookkeeping
        # for 50 wide rows was a fifth of a cold render.
        connection = session.connection()
        result = connection.execute(_page_query(connection.dialect.name), {"ids": missing})
        articles = {**articles, **{row.id: row for row in namespaces(result)}}
    urls = {link["url"] for ident, _, _ in page.rows for link in articles[ident].related}
    # The snapshot's last read (none: no statement), with its COMMIT (db.ENDS_SNAPSHOT).
    pages = related_pages(session, partner.id, urls, upto=usage_upto, ends_snapshot=True)
    items, visible_since, deliveries = [], [], []
    for ident, _, decision in page.rows:
        article = articles[ident]
        lic = lics[article.license]
        piece = scrubbed(view_for(settings, partner, article, lic, decision, pages))  # type: ignore[arg-type]
        html = render_fragment(piece)
        items.append(FeedItem(piece, html, piece.uri, piece.updated_at))
        opens = available_from(article)
        # Shown before it opens only to a partner trusted with embargoes: visible since its
        # last write, never since the render (every worker renders at its own moment, and the
        # time would reach `updated`, the bytes and the ETag).
        visible_since.append(max(article.updated_at, opens) if opens <= now else article.updated_at)
        deliveries.append(
            Delivery(partner.id, ident, piece.revision, html, lic.code, piece.credit_line, now)
        )
    return tuple(items), visible_since, tuple(deliveries)


def _tombstone(settings: Settings, gone: Withdrawal) -> Tombstone:
    article, lic = gone.article, gone.license
    assert article.withdrawn_at is not None
    return Tombstone(
        ref=tag_uri(settings.authority, article),
        when=article.withdrawn_at,
        reason=strip_xml_invalid(article.withdrawal_reason or "withdrawn"),
        headline=strip_xml_invalid(article.headline),
        canonical_url=article.canonical_url,
        license_code=lic.code,
        license_name=strip_xml_invalid(lic.name),
        license_url=lic.url,
    )


def _links(settings: Settings, fmt: str, query: FeedQuery, page: Page) -> PageLinks:
    base = settings.absolute(FEED_PATHS[fmt])
    first = base + query.params(keep_cursor=False)
    older = newer = None
    if page.rows and page.more_after:
        ident, published, _ = page.rows[-1]
        older = base + query.params(Cursor(older=True, published_at=published, id=ident))
    if page.rows and page.more_before:
        ident, published, _ = page.rows[0]
        newer = base + query.params(Cursor(older=False, published_at=published, id=ident))
    elif not page.rows and query.cursor is not None:
        newer = first
    return PageLinks(self=base + query.params(), first=first, next=older, previous=newer)


class ScanLicense(NamedTuple):
    """What a feed's scan reads of a license (candidates.listing_values, entitlement.decide):
    a worker's guess keeps only this."""

    code: str
    min_audience: int
    window_days: int | None


def _scan_facts(licenses: dict[str, License]) -> tuple[ScanLicense, ...]:
    """In code order: the database answers the licenses in no set order, and the scan's rows
    do not depend on it."""
    facts = (ScanLicense(lic.code, lic.min_audience, lic.window_days) for lic in licenses.values())
    return tuple(sorted(facts))


class Guesses:
    """What each partner's licenses were, as far as its scan reads them, the last time a
    worker rendered its feed: a guess only, per pool (so per database; forgotten with the
    pool) and partner, at most `per_pool` partners a pool (the least recently used goes).

    On PostgreSQL a render that has one sends its scan, built from it, in the round trip of
    BEGIN and the catalog read (db.ALONGSIDE), and keeps that scan only if the licenses it
    then reads and the partner's facts are those the scan went by: the same statement, in
    the same snapshot, answers the same rows. Otherwise (a worker's first render of the
    partner, one it forgot, a license's code, minimum audience or window changed, or the
    partner's facts) it scans again after the catalog read. Each round trip cost a cold
    render 0.2-0.3 ms here. Renders run on many threads: a lock guards the maps."""

    def __init__(self, per_pool: int = 4096) -> None:
        self._per_pool = per_pool
        self._lock = threading.Lock()
        self._pools: WeakKeyDictionary[Pool, OrderedDict[int, tuple[ScanLicense, ...]]] = (
            WeakKeyDictionary()
        )

    def get(self, pool: Pool, partner_id: int) -> tuple[ScanLicense, ...] | None:
        with self._lock:
            known = self._pools.get(pool)
            guess = known.get(partner_id) if known is not None else None
            if known is not None and guess is not None:
                known.move_to_end(partner_id)  # the least recently used goes first
            return guess

    def put(self, pool: Pool, partner_id: int, guess: tuple[ScanLicense, ...]) -> None:
        with self._lock:
            known = self._pools.setdefault(pool, OrderedDict())
            known.pop(partner_id, None)
            known[partner_id] = guess
            while len(known) > self._per_pool:
                known.popitem(last=False)


GUESSES = Guesses()


def _pipelined(connection: Connection) -> bool:
    """Whether the session's reads go in psycopg pipelines (db.read_snapshot on PostgreSQL)."""
    return bool(connection.get_execution_options().get(SNAPSHOT, False))


def build_feed(
    session: Session,
    settings: Settings,
    partner: Partner,
    fmt: str,
    query: FeedQuery,
    now: datetime,
    seen_at: int | None = None,
) -> BuiltFeed:
    """The feed as the session's snapshot has it. `partner` was read at catalog version
    `seen_at` (the request's key check, cached per version); when a write has moved the
    catalog on since, the partner's row is read again here, so its facts (audience, embargo
    access, name) come from the same snapshot as its licenses and the pieces."""
    partner_id = partner.id
    assert partner_id is not None
    connection = session.connection()
    # On PostgreSQL a first page's tombstone candidates come with its scan, in the same
    # statement: a round trip less. On SQLite the union cost as much as the read it saved.
    merged = query.first_page and connection.dialect.name == "postgresql"
    pipelined = _pipelined(connection)
    guess = GUESSES.get(connection.engine.pool, partner_id) if pipelined else None
    speculative = None
    if guess is not None:  # the scan sent with the catalog read, as the licenses were
        guessed = {lic.code: lic for lic in guess}
        guessed_facts = PartnerSnapshot.of(partner)
        landed: dict[str, Any] = {}
        catalog_read = Alongside(
            _catalog_sql(connection.dialect), _catalog_values(partner_id, now), landed
        )
        speculative = scan_page(
            session, guessed_facts, sorted(guessed), guessed, query, now,  # type: ignore[arg-type]
            with_tombstones=merged, alongside=catalog_read,
        )  # fmt: skip
        if "rows" not in landed:  # db._execute did not run it: an engine without the hook
            raise RuntimeError("the catalog read sent alongside the scan did not run")
        read = _catalog_read(session, partner_id, landed["names"], landed["rows"])
    else:
        read = _catalog_and_licenses(session, partner_id, now)
    version, changed_at, usage_upto, last_aged, lics = read
    if seen_at is not None and version != seen_at:
        partner = session.get(Partner, partner_id) or partner  # gone: the next pull gets a 401
    granted = sorted(lics)
    facts = PartnerSnapshot.of(partner)
    read_facts = _scan_facts(lics)
    if pipelined and read_facts != guess:
        GUESSES.put(connection.engine.pool, partner_id, read_facts)
    if speculative is not None and read_facts == guess and guessed_facts == facts:
        page = speculative  # the scan these licenses and facts make, in the same snapshot
    else:
        page = scan_page(session, facts, granted, lics, query, now, with_tombstones=merged)
    gone, ages_out = (
        tombstones_of(page.withdrawn, facts, granted, lics, now)
        if merged
        else tombstones(session, facts, granted, lics, query, now)
        if query.first_page
        else ([], None)
    )
    closure = last_closure(session, lics, now)
    # The related pages are the snapshot's last read, which takes its COMMIT with it: nothing
    # after it reads the database.
    items, visible_since, deliveries = _items(
        session, settings, partner, page, lics, now, usage_upto
    )
    stones = tuple(_tombstone(settings, g) for g in gone)
    # The body's `updated` moves only with what this partner sees (so unrelated writes keep
    # the ETag); Last-Modified also moves with any catalog write and any window closing.
    updated = max(
        [*visible_since, *(t.when for t in stones)],
        default=partner.created_at,
    )
    # A tombstone leaves the first page 30 days after the withdrawal, by time alone (a safe
    # bound: the withdrawal may be one this partner was never told of).
    aged_out = (
        last_aged + timedelta(days=TOMBSTONE_DAYS)
        if query.first_page and last_aged is not None
        else None
    )
    view = FeedView(
        title=strip_xml_invalid(f"Syndicated pieces for {partner.name}"),
        subtitle="Pieces licensed to this partner, with credit lines in place, ready to republish.",
        feed_id=feed_id(settings, partner),
        home_url=settings.absolute("/"),
        partner_name=strip_xml_invalid(partner.name),
        rights=strip_xml_invalid(
            "Each piece carries its own license and credit line; republish only under those terms."
        ),
        updated=updated,
        items=items,
        tombstones=stones,
        links=_links(settings, fmt, query, page),
        format_urls=tuple((f, settings.absolute(p)) for f, p in FEED_PATHS.items()),
    )
    expires = [m for m in (page.changes_at, ages_out) if m is not None]
    return BuiltFeed(
        view=view,
        deliveries=deliveries,
        last_modified=max(m for m in (updated, changed_at, closure, aged_out) if m is not None),
        expires_at=min(expires) if expires else None,
    )
