"""Which pieces are on a page of a partner's feed: SQL narrows, `decide` confirms every row.

The scan reads in the feed's order (published_at desc, id desc), on the (license[, section],
published_at) indexes, in batches. The first batch is one row more than the page and reads
whole rows: the narrowing leaves `decide` little to refuse but embargoes (kept out of SQL on
purpose), so unless those crowd the head of the feed it holds the whole page, which then costs
no second statement. Later batches, for a page the first did not fill, read only the
columns `decide` needs (never the body); the render loads the rest of the page's rows by id
(`Page.loaded` says which rows it has whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Result,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import col

from syndication.articles.models import Article
from syndication.db import ALONGSIDE, UNPREPARED, Alongside, constant
from syndication.feeds.query import Cursor, FeedQuery
from syndication.licensing.candidates import (
    TOMBSTONE_DAYS,
    Shape,
    listing_template,
    listing_values,
    tombstone_template,
    tombstone_values,
)
from syndication.licensing.entitlement import Decision, PartnerFacts, Verdict, decide
from syndication.licensing.models import License

MAX_TOMBSTONES = 100
_FACTS = (
    col(Article.id),
    col(Article.status),
    col(Article.section),
    col(Article.license),
    col(Article.published_at),
    col(Article.embargo_until),
)


@dataclass(frozen=True)
class Page:
    rows: tuple[tuple[int, datetime, Decision], ...]  # (id, published_at, decision), in order
    more_after: bool  # an older page exists
    more_before: bool  # a newer page exists (only known when reading backwards)
    changes_at: datetime | None  # the first moment any scanned row's answer changes
    # Whole rows (every column) the scan read, by id: the first batch, refused rows included;
    # all of the page's rows when that batch held the page. Kept out of repr and ==.
    loaded: dict[int, Any] = field(repr=False, compare=False)
    # The tombstone candidates read with the first batch (`scan_page(with_tombstones=True)`),
    # newest withdrawal first; for `tombstones_of`.
    withdrawn: tuple[Any, ...] = field(default=(), repr=False, compare=False)


def namespaces(result: Result[Any]) -> list[Any]:
    """Every row (one fetchall) as a namespace."""
    return as_namespaces(tuple(result.keys()), result.all())


def as_namespaces(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[Any]:
    """Each row as a namespace of `names`, by zipping the names once: ~2x cheaper than
    unpacking each Row's mapping, and a namespace's attribute read is ~4x cheaper than a
    Row's (building a piece reads ~25 of them)."""
    return [SimpleNamespace(**dict(zip(names, row, strict=True))) for row in rows]


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _filters(section: bool, since: bool, since_column: Any) -> list[ColumnElement[bool]]:
    """The query's section and since filters, with bind parameters (`_filter_values`); `since`
    applies to `since_column` (a listing's updated_at, a tombstone's withdrawn_at)."""
    found: list[ColumnElement[bool]] = []
    if section:
        found.append(col(Article.section) == bindparam("section"))
    if since:
        found.append(since_column >= bindparam("since"))
    return found


def _filter_values(query: FeedQuery) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if query.section is not None:
        values["section"] = query.section
    if query.since is not None:
        values["since"] = query.since
    return values


def _position(older: bool) -> ColumnElement[bool]:
    at: BindParameter[datetime] = bindparam("at")
    ident: BindParameter[int] = bindparam("ident")
    if older:
        return or_(
            col(Article.published_at) < at,
            and_(col(Article.published_at) == at, col(Article.id) < ident),
        )
    return or_(
        col(Article.published_at) > at,
        and_(col(Article.published_at) == at, col(Article.id) > ident),
    )


@lru_cache(maxsize=512)
def _scan_statement(
    shape: Shape, section: bool, since: bool, backwards: bool, positioned: bool, whole: bool
) -> Select:
    """One batch of the scan, built once per shape; values go in as bind parameters. `whole`:
    every column of the rows (the first batch), else only those `decide` reads."""
    columns = Article.__table__.columns if whole else _FACTS  # type: ignore[attr-defined]
    where = [listing_template(shape), *_filters(section, since, col(Article.updated_at))]
    if positioned:
        where.append(_position(older=not backwards))
    order = (
        (col(Article.published_at).asc(), col(Article.id).asc())
        if backwards
        else (col(Article.published_at).desc(), col(Article.id).desc())
    )
    return (
        select(*columns)
        .where(*where)
        .order_by(*order)
        .limit(bindparam("batch", type_=Integer))
        .execution_options(**{UNPREPARED: True})  # its plan depends on the licenses
    )


def scan_page(
    session: Session,
    partner: PartnerFacts,
    granted: Sequence[str],
    licenses: dict[str, License],
    query: FeedQuery,
    now: datetime,
    with_tombstones: bool = False,
    alongside: Alongside | None = None,
) -> Page:
    """Up to `query.limit` entitled pieces at the query's position, confirmed by `decide`.
    `with_tombstones` (a first page only): the first batch also reads the tombstone
    candidates (`Page.withdrawn`), in the same statement (`_first_batch_statement`).
    `alongside`: a read sent with the first batch, in the same round trip (db.ALONGSIDE)."""
    shape, values = listing_values(partner, granted, licenses.values(), now)
    values.update(_filter_values(query))
    withdrawn: list[Any] = []
    if with_tombstones:
        if not query.first_page:
            raise ValueError("tombstones are read with a first page only")
        stone_shape, stone_values = tombstone_values(partner, granted, licenses.values(), now)
        values.update(stone_values)  # the codes and sections are the listing's own
    section, since = query.section is not None, query.since is not None
    backwards = query.cursor is not None and not query.cursor.older
    position = query.cursor
    found: list[tuple[int, datetime, Decision]] = []
    loaded: dict[int, Any] = {}
    changes_at: datetime | None = None
    batch, whole = query.limit + 1, True
    # Core execution on the session's connection: these are plain column rows, and the ORM
    # execution path (autoflush, ORM loading) cost more than the SQL itself.
    connection = session.connection()
    while len(found) <= query.limit:
        if position is not None:
            values["at"], values["ident"] = position.published_at, position.id
        statement: Select | CompoundSelect
        if whole and with_tombstones:
            statement = _first_batch_statement(shape, stone_shape, section, since)
        else:
            statement = _scan_statement(
                shape, section, since, backwards, position is not None, whole
            )
        options = {ALONGSIDE: alongside} if alongside is not None else None
        batch_values = {**values, "batch": batch}
        result = connection.execute(statement, batch_values, execution_options=options)
        alongside = None  # with the first batch only
        rows: Sequence[Any]
        if whole:
            rows = namespaces(result)
            if with_tombstones:
                rows, withdrawn = split_union(rows)
            loaded, whole = {row.id: row for row in rows}, False
        else:
            rows = result.all()
        for row in rows:
            decision = decide(partner, granted, row, licenses[row.license], now)
            moment = decision.changes_at  # the earliest of them, without a list per row
            if moment is not None and (changes_at is None or moment < changes_at):
                changes_at = moment
            if decision.verdict is Verdict.ENTITLED:
                found.append((row.id, row.published_at, decision))
                if len(found) > query.limit:
                    break
        if len(rows) < batch:
            break
        last = rows[-1]
        position = Cursor(older=not backwards, published_at=last.published_at, id=last.id)
        batch = min(batch * 2, 1000)
    more = len(found) > query.limit
    page = found[: query.limit]
    if backwards:
        page.reverse()
    return Page(
        rows=tuple(page),
        more_after=(not backwards and more) or (backwards and bool(page)),
        more_before=(backwards and more) or (query.cursor is not None and not backwards),
        changes_at=changes_at,
        loaded=loaded,
        withdrawn=tuple(withdrawn),
    )


_TOMBSTONE_FACTS = (
    *_FACTS,
    col(Article.created_at),
    col(Article.headline),
    col(Article.canonical_url),
    col(Article.withdrawn_at),
    col(Article.withdrawal_reason),
)


@lru_cache(maxsize=64)
def _tombstone_statement(shape: tuple[int, bool], section: bool, since: bool) -> Select:
    where = [tombstone_template(shape), *_filters(section, since, col(Article.withdrawn_at))]
    return (
        select(*_TOMBSTONE_FACTS)
        .where(*where)
        .order_by(col(Article.withdrawn_at).desc(), col(Article.id).desc())
        .limit(MAX_TOMBSTONES)
    )


def _listed_order(row: Any) -> tuple[datetime, int]:
    return row.published_at, row.id


def _withdrawn_order(row: Any) -> tuple[datetime, int]:
    return row.withdrawn_at, row.id


def split_union(rows: list[Any]) -> tuple[list[Any], list[Any]]:
    """`_first_batch_statement`'s rows: the listed ones, newest published first, and the
    tombstone candidates, newest withdrawal first. UNION ALL promises no order, so each is
    sorted again (the rows come in it, so the sorts cost little)."""
    listed = sorted((row for row in rows if row.part == 0), key=_listed_order, reverse=True)
    withdrawn = sorted((row for row in rows if row.part == 1), key=_withdrawn_order, reverse=True)
    return listed, withdrawn


@lru_cache(maxsize=512)
def _first_batch_statement(
    shape: Shape, stone_shape: tuple[int, bool], section: bool, since: bool
) -> CompoundSelect:
    """A first page's first batch (`_scan_statement`, whole rows) and its tombstone candidates
    (`_tombstone_statement`) in one statement, each branch on its own index as when apart: on
    PostgreSQL a statement more cost a cold render ~0.3 ms, most of it the round trip; the
    union costs the server ~0.1 ms more to plan and run than the two apart. `part`
    says which branch a row answers (0: listed, 1: withdrawn); a tombstone's row carries only
    `_TOMBSTONE_FACTS`, its other columns NULL."""
    listed = _scan_statement(shape, section, since, False, False, True).subquery("listed")
    gone = _tombstone_statement(stone_shape, section, since).subquery("gone")
    padded = [
        gone.c[column.name] if column.name in gone.c else null().label(column.name)
        for column in listed.c
    ]
    return union_all(
        select(literal_column("0", Integer).label("part"), *listed.c),
        select(literal_column("1", Integer).label("part"), *padded),
    ).execution_options(**{UNPREPARED: True})  # the scan's plan depends on the licenses


@dataclass(frozen=True)
class Withdrawal:
    article: Any  # a row with _TOMBSTONE_FACTS
    license: License


def tombstones(
    session: Session,
    partner: PartnerFacts,
    granted: Sequence[str],
    licenses: dict[str, License],
    query: FeedQuery,
    now: datetime,
) -> tuple[list[Withdrawal], datetime | None]:
    """Pieces withdrawn in the last 30 days that `decide` answers WITHDRAWN for, and when
    the oldest of them ages out of the feed, read on their own (a feed's first page reads
    them with its scan: `scan_page(with_tombstones=True)`)."""
    shape, values = tombstone_values(partner, granted, licenses.values(), now)
    values.update(_filter_values(query))
    statement = _tombstone_statement(shape, query.section is not None, query.since is not None)
    articles = session.connection().execute(statement, values).all()  # Core rows, as in scan_page
    return tombstones_of(articles, partner, granted, licenses, now)


def tombstones_of(
    articles: Iterable[Any],
    partner: PartnerFacts,
    granted: Sequence[str],
    licenses: dict[str, License],
    now: datetime,
) -> tuple[list[Withdrawal], datetime | None]:
    """`tombstones` of its candidate rows, newest withdrawal first."""
    kept = [
        Withdrawal(a, licenses[a.license])
        for a in articles
        if decide(partner, granted, a, licenses[a.license], now).verdict is Verdict.WITHDRAWN
    ]
    keep = timedelta(days=TOMBSTONE_DAYS)
    ages_out = _earliest(*(w.article.withdrawn_at + keep for w in kept if w.article.withdrawn_at))
    return kept, ages_out


@lru_cache(maxsize=16)
def _closure_statement(windows: int) -> CompoundSelect | Select:
    """For each of `windows` licenses (codes and cut-offs bound as `code_<n>`, `closed_by_<n>`),
    its newest published piece at or before the cut-off, with `n`: one statement, so a render
    waits for one round trip however many of the partner's licenses have a window (each
    branch reads the (license, published_at) index backwards, as one statement per license
    did). `n` says which branch a row answers: UNION ALL promises no order."""
    branches = [
        select(
            literal_column(str(n), Integer).label("n"), func.max(col(Article.published_at))
        ).where(
            col(Article.license) == bindparam(f"code_{n}"),
            col(Article.status) == constant("published"),
            col(Article.published_at) <= bindparam(f"closed_by_{n}"),
        )
        for n in range(windows)
    ]
    statement = branches[0] if windows == 1 else union_all(*branches)
    return statement.execution_options(**{UNPREPARED: True})  # its plan depends on the licenses


def last_closure(session: Session, licenses: dict[str, License], now: datetime) -> datetime | None:
    """The latest moment ≤ now at which a license window closed on some piece: the feed
    changed then although nothing was written (Last-Modified must not predate it)."""
    spans = [
        (lic.code, timedelta(days=lic.window_days))
        for lic in licenses.values()
        if lic.window_days is not None
    ]
    if not spans:
        return None
    values: dict[str, Any] = {}
    for n, (code, span) in enumerate(spans):
        values[f"code_{n}"], values[f"closed_by_{n}"] = code, now - span
    rows = session.connection().execute(_closure_statement(len(spans)), values).all()
    closed = [newest + spans[n][1] for n, newest in rows if newest is not None]
    return max(closed, default=None)
