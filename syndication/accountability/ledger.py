"""The delivery ledger: once per (partner, piece, revision), the exact HTML's SHA-256, the
license and the credit line as rendered, and when it was first delivered. Append-only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import Select, String, and_, bindparam, exists, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication.accountability.models import DeliveryRecord, Holding
from syndication.articles.models import Article
from syndication.catalog import CatalogState
from syndication.db import ENDS_SNAPSHOT, constant, in_list, session_scope
from syndication.errors import NotFound
from syndication.partners.models import Partner
from syndication.usage.models import PartnerPage


@dataclass(frozen=True)
class Delivery:
    partner_id: int
    article_id: int
    revision: int
    html: str = field(repr=False)  # as delivered; the ledger keeps its SHA-256 only
    license_code: str
    credit_line: str
    at: datetime


def sha256_of(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


def _insert_ignoring_duplicates(dialect: str):  # type: ignore[no-untyped-def]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(DeliveryRecord).on_conflict_do_nothing(
        index_elements=["partner_id", "article_id", "revision"]
    )


def record_deliveries(engine: Engine, deliveries: Sequence[Delivery]) -> None:
    """One statement per batch; a (partner, piece, revision) already recorded keeps its row.
    The HTML is hashed here, when the row is written (after the answer, in the background),
    not while the partner waits: 50 fragments' SHA-256 were ~7% of a cold feed render."""
    first: dict[tuple[int, int, int], Delivery] = {}
    for d in sorted(deliveries, key=lambda d: d.at):
        first.setdefault((d.partner_id, d.article_id, d.revision), d)
    if not first:
        return
    values = [
        {
            "partner_id": d.partner_id,
            "article_id": d.article_id,
            "revision": d.revision,
            "html_sha256": sha256_of(d.html),
            "license_code": d.license_code,
            "credit_line": d.credit_line,
            "delivered_at": d.at,
        }
        for d in first.values()
    ]
    with session_scope(engine) as session:
        session.execute(_insert_ignoring_duplicates(engine.dialect.name), values)


def holders(session: Session, article_id: int, before_revision: int | None = None) -> list[int]:
    """Partners holding the piece (optionally: a revision earlier than the one given)."""
    query = select(DeliveryRecord.partner_id).where(DeliveryRecord.article_id == article_id)
    if before_revision is not None:
        query = query.where(DeliveryRecord.revision < before_revision)
    return sorted(set(session.scalars(query.distinct())))


def _holdings(session: Session, where: Iterable, limit: int, offset: int) -> list[Holding]:  # type: ignore[type-arg]
    query = (
        select(DeliveryRecord, Partner.slug, Article.slug, Article.revision)
        .join(Partner, col(Partner.id) == DeliveryRecord.partner_id)
        .join(Article, col(Article.id) == DeliveryRecord.article_id)
        .where(*where)
        .order_by(col(DeliveryRecord.delivered_at).desc(), col(DeliveryRecord.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        Holding(
            partner=partner,
            article=article,
            revision=row.revision,
            current_revision=current,
            html_sha256=row.html_sha256,
            license_code=row.license_code,
            credit_line=row.credit_line,
            delivered_at=row.delivered_at,
        )
        for row, partner, article, current in session.execute(query)
    ]


def for_article(
    session: Session, article_id: int, limit: int = 500, offset: int = 0
) -> list[Holding]:
    return _holdings(session, [DeliveryRecord.article_id == article_id], limit, offset)


def for_partner(
    session: Session, partner_id: int, limit: int = 500, offset: int = 0
) -> list[Holding]:
    return _holdings(session, [DeliveryRecord.partner_id == partner_id], limit, offset)


def latest_held(session: Session, partner_id: int, article_id: int) -> DeliveryRecord | None:
    return session.scalars(
        select(DeliveryRecord)
        .where(DeliveryRecord.partner_id == partner_id, DeliveryRecord.article_id == article_id)
        .order_by(col(DeliveryRecord.revision).desc())
    ).first()


def _is_web_page(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# What bounds the partner pages `related_pages` reads: every page (None); those first seen
# up to a given usage event id; or up to the catalog's own `usage_upto`, read in the same
# statement.
Upto = int | Literal["catalog"] | None


@lru_cache(maxsize=6)
def _related_pages_query(dialect: str, bound: str) -> Select:
    """Built once per dialect and kind of bound (`none`, `param`: up to the bind parameter
    `upto`, `catalog`), with bind parameters: constructing it cost a cold feed render ~0.2 ms.
    The URLs are one array on PostgreSQL (`db.in_list`). It reads `partner_page` by its key
    from the related pieces, so its cost does not grow with the pixel hits. The ledger half is
    not bounded: a delivery row lands after the answer, before any pixel could show the
    piece, except for hits older than the ledger itself or a ledger write that failed."""
    held = exists().where(
        and_(
            col(DeliveryRecord.partner_id) == col(PartnerPage.partner_id),
            col(DeliveryRecord.article_id) == col(PartnerPage.article_id),
        )
    )
    query = (
        select(Article.canonical_url, PartnerPage.page)
        .join(PartnerPage, col(PartnerPage.article_id) == col(Article.id))
        .where(
            col(PartnerPage.partner_id) == bindparam("partner_id"),
            in_list(col(Article.canonical_url), "urls", String, dialect),
            Article.status == constant("published"),
            held,
        )
        .order_by(col(PartnerPage.first_id))
    )
    if bound == "param":
        return query.where(col(PartnerPage.first_id) <= bindparam("upto"))
    if bound == "catalog":  # unbounded in a database without the catalog's row, as feeds are
        catalogs = select(col(CatalogState.usage_upto)).scalar_subquery()
        return query.where(
            col(PartnerPage.first_id) <= func.coalesce(catalogs, col(PartnerPage.first_id))
        )
    return query


_ENDS = {ENDS_SNAPSHOT: True}


def related_pages(
    session: Session,
    partner_id: int,
    urls: Iterable[str],
    *,
    upto: Upto,
    ends_snapshot: bool = False,
) -> dict[str, str]:
    """Our canonical URL -> the partner's own page, for related pieces the partner holds
    (ledger) and showed (pixel hit with a page); of several pages, the one first seen last
    (a piece the partner moved to a new address). Feeds, bundles and the staff preview take
    the pages first seen up to the catalog's `usage_upto` (feeds pass the value they read with
    the version, the others "catalog"), so what they show moves with the catalog's version,
    and with the caches keyed on it, alike in every worker: later hits on a page do not
    reorder them. `ends_snapshot`: the last read of a `db.read_snapshot` session, which takes
    its COMMIT with it (db.ENDS_SNAPSHOT)."""
    wanted = sorted(set(urls))
    if not wanted:
        return {}
    connection = session.connection()  # Core: plain column rows, no ORM execution path
    bound = "none" if upto is None else "catalog" if upto == "catalog" else "param"
    query = _related_pages_query(connection.dialect.name, bound)
    values = {"partner_id": partner_id, "urls": wanted, "upto": upto}
    rows = connection.execute(query, values, execution_options=_ENDS if ends_snapshot else None)
    pages: dict[str, str] = {}
    for canonical, page in rows:
        if page and _is_web_page(page):
            pages[canonical] = page
    return pages


def piece_related_pages(session: Session, partner_id: int, article: Article) -> dict[str, str]:
    """`related_pages` for one piece's related links as of the catalog's version: what a
    bundle and the staff preview of it show, as the partner's feed would."""
    urls = [link["url"] for link in article.related]
    return related_pages(session, partner_id, urls, upto="catalog")


def article_holdings(
    session: Session, slug: str, limit: int = 500, offset: int = 0
) -> list[Holding]:
    article_id = session.scalars(select(Article.id).where(Article.slug == slug)).first()
    if article_id is None:
        raise NotFound(f"no piece {slug!r}", field="slug")
    return for_article(session, article_id, limit, offset)


def partner_holdings(
    session: Session, slug: str, limit: int = 500, offset: int = 0
) -> list[Holding]:
    partner_id = session.scalars(select(Partner.id).where(Partner.slug == slug)).first()
    if partner_id is None:
        raise NotFound(f"no partner {slug!r}", field="slug")
    return for_partner(session, partner_id, limit, offset)
