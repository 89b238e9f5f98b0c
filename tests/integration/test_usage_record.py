"""usage.service.record writes plain tuples with executemany; the rows read back through the
ORM exactly as they were given, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from litestar.testing import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from syndication.articles.models import Article
from syndication.db import session_scope
from syndication.partners.models import Partner
from syndication.usage.models import UsageEvent
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
