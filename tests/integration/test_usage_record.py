"""usage.service.record writes plain tuples with executemany; the rows read back through the
ORM exactly as they were given, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from litestar.testing import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from syndication.articles.models import Article
from syndication.db import session_scope
from syndication.partners.models import Partner
from syndication.usage.models import PartnerPage, UsageEvent
from syndication.usage.service import Usage, record
from tests.factories import article_body, create, license_body, partner_body


def test_recorded_rows_read_back_exactly(
    client: TestClient, staff_headers: dict[str, str], engine: Engine
) -> None:
    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/partners", partner_body())
    create(client, staff_headers, "/api/v1/articles", article_body())
    with session_scope(engine, write=False) as session:
        partner = {"id": session.scalars(select(Partner.id)).one()}
        article = {"id": session.scalars(select(Article.id)).one()}
    plus_two = timezone(timedelta(hours=2))
    at = datetime(2026, 11, 27, 3, 4, 5, 123456, tzinfo=plus_two)
    record(engine, [
        Usage(kind="feed_pull", partner_id=partner["id"], at=at, format="atom"),
        Usage(kind="pixel_hit", partner_id=partner["id"], at=at.replace(microsecond=0),
              article_id=article["id"], page="https://example.org/a"),
    ])  # fmt: skip
    with session_scope(engine, write=False) as session:
        rows = session.scalars(select(UsageEvent).order_by(col(UsageEvent.id))).all()
    assert [(r.kind, r.format, r.article_id, r.page) for r in rows[-2:]] == [
        ("feed_pull", "atom", None, None),
        ("pixel_hit", None, article["id"], "https://example.org/a"),
    ]
    assert rows[-2].at == at and rows[-2].at.tzinfo is not None
    assert rows[-1].at == datetime(2026, 11, 27, 1, 4, 5, tzinfo=UTC)


def test_pixel_hits_keep_one_row_per_partner_page(
    client: TestClient, staff_headers: dict[str, str], engine: Engine
) -> None:
    """The usage write keeps `partner_page`: a row per (partner, piece, page) that pixel hits
    showed, with its first hit's id; later hits of the page, hits without a page and other
    kinds of event add none."""
    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/partners", partner_body())
    create(client, staff_headers, "/api/v1/articles", article_body())
    with session_scope(engine, write=False) as session:
        partner = session.scalars(select(Partner.id)).one()
        article = session.scalars(select(Article.id)).one()
    at = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    a, b = "https://gazette.example/a", "https://gazette.example/b"

    def hit(page: str | None, minutes: int) -> Usage:
        return Usage("pixel_hit", partner, at + timedelta(minutes=minutes), article, page=page)

    pull = Usage("feed_pull", partner, at, format="atom")
    download = Usage("bundle_download", partner, at, article, "zip")
    record(engine, [pull, hit(a, 1), hit(a, 2), hit(None, 3), download])
    record(engine, [hit(a, 4), hit(b, 5), hit(b, 6)])
    with session_scope(engine, write=False) as session:
        hits = session.execute(
            select(UsageEvent.page, func.min(UsageEvent.id))
            .where(UsageEvent.kind == "pixel_hit", col(UsageEvent.page).is_not(None))
            .group_by(col(UsageEvent.page))
            .order_by(col(UsageEvent.page))
        ).all()
        pages = session.execute(
            select(PartnerPage.partner_id, PartnerPage.article_id, PartnerPage.page,
                   PartnerPage.first_id).order_by(col(PartnerPage.page))
        ).all()  # fmt: skip
    assert [tuple(p) for p in pages] == [
        (partner, article, page, first_id) for page, first_id in hits
    ]
    assert [p.page for p in pages] == [a, b]
