"""The catalog version row: what a bump records besides the version."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from syndication import catalog
from syndication.db import session_scope
from syndication.partners.models import Partner
from syndication.usage.service import Usage, record

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _usage_upto(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT usage_upto FROM catalog_state")).scalar_one())


def test_a_bump_records_the_newest_usage_event_and_never_goes_back(engine: Engine) -> None:
    """`usage_upto` (how far related links follow pixel hits) is the newest usage event at the
    bump; a bump whose view of usage_event is older than the row's keeps the row's."""
    with engine.begin() as conn:
        conn.execute(insert(Partner), [
            {"slug": "gazette", "name": "Gazette", "audience": 1, "sees_embargoed": False,
             "active": True, "created_at": NOW, "updated_at": NOW}
        ])  # fmt: skip
        partner = conn.execute(text("SELECT id FROM partner")).scalar_one()
    record(engine, [Usage("pixel_hit", partner, NOW, page="https://gazette.example/a")] * 2)
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT max(id) FROM usage_event")).scalar_one()
    with session_scope(engine) as session:
        catalog.bump(session)
    assert _usage_upto(engine) == newest
    with engine.begin() as conn:  # as a concurrent bump that saw later events left it
        conn.execute(text("UPDATE catalog_state SET usage_upto = :n"), {"n": newest + 100})
    with session_scope(engine) as session:
        catalog.bump(session)
    assert _usage_upto(engine) == newest + 100
