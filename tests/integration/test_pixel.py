"""The tracking pixel: always a GIF, records only genuine hits of entitled partners, no IP."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient
from lxml import html as lxml_html
from sqlalchemy import create_engine, inspect, select

from syndication.db import session_scope
from syndication.republish.pixel import make_token
from syndication.usage.models import UsageEvent
from syndication.usage.pixel import PixelHit, record_hit
from tests.conftest import BASE_URL, Clock
from tests.integration.syndicated import Syndicated, syndicated

PAGE = "https://gazette.example.com/news/council-budget"


@pytest.fixture
def s(client: TestClient, staff_headers: dict) -> Syndicated:
    setup = syndicated(client, staff_headers)
    setup.piece("council-budget")
    return setup


def _pixel_path(s: Syndicated, key: str | None = None) -> str:
    html = s.get("/bundles/council-budget.html", key=key).text
    img = lxml_html.fragment_fromstring(html).xpath("//img[@class='syndication-pixel']")[0]
    # without it, browsers send only the partner's origin and the page is lost
    assert img.get("referrerpolicy") == "no-referrer-when-downgrade"
    src = img.get("src")
    assert src.startswith(BASE_URL)
    return src.removeprefix(BASE_URL)


def _assert_gif(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    body = response.content
    assert body[:6] == b"GIF89a" and struct.unpack("<HH", body[6:10]) == (1, 1)


def _hits(s: Syndicated) -> list[dict]:
    return s.usage(kind="pixel_hit")["events"]["items"]


def test_a_hit_with_a_referer_shows_up_in_usage(s: Syndicated, clock: Clock) -> None:
    path = _pixel_path(s)
    _assert_gif(s.client.get(path, headers={"Referer": PAGE + "#comments"}))
    clock.advance(minutes=5)
    s.client.get(path, headers={"Referer": PAGE})
    s.client.get(path, headers={"Referer": "https://gazette.example.com/"})
    s.client.get(path)  # no Referer: counted, no page
    hits = _hits(s)
    assert len(hits) == 4
    assert {(h["partner"], h["piece"]) for h in hits} == {("gazette", "council-budget")}
    assert hits[0]["at"].startswith("2026-11-26T12:05:00") and hits[0]["page"] is None
    report = s.usage(piece="council-budget")
    assert report["seen_on"] == [
        {"piece": "council-budget", "pages": [
            {"page": PAGE, "partner": "gazette", "count": 2, "last_seen": "2026-11-26T12:05:00Z"},
            {"page": "https://gazette.example.com/", "partner": "gazette", "count": 1,
             "last_seen": "2026-11-26T12:05:00Z"},
        ]}
    ]  # fmt: skip


def test_no_ip_address_is_kept(s: Syndicated, engine) -> None:  # type: ignore[no-untyped-def]
    s.client.get(_pixel_path(s), headers={"Referer": PAGE, "X-Forwarded-For": "203.0.113.9"})
    columns = {c["name"] for c in inspect(engine).get_columns("usage_event")}
    assert columns == {"id", "kind", "partner_id", "article_id", "format", "page", "at", "times"}
    with session_scope(engine) as session:
        rows = session.execute(select(UsageEvent)).scalars().all()
        values = [str(v) for row in rows for v in row.model_dump().values()]
    assert len(rows) == 2  # the bundle download and the hit
    assert not any("203.0.113.9" in v or "testclient" in v for v in values)


def test_bad_tokens_answer_the_gif_and_record_nothing(s: Syndicated) -> None:
    good = _pixel_path(s).removeprefix("/px/").removesuffix(".gif")
    forged = make_token("another-secret", 1, 1)
    for path in (f"/px/{forged}.gif", "/px/garbage.gif", f"/px/{good}.png", "/px/" + "A" * 300,
                 f"/px/{good[:-3]}.gif"):  # fmt: skip
        _assert_gif(s.client.get(path, headers={"Referer": PAGE}))
    assert _hits(s) == []


def test_partner_no_longer_entitled_records_nothing(s: Syndicated) -> None:
    path = _pixel_path(s)
    s.client.patch("/api/v1/partners/gazette", json={"licenses": []}, headers=s.staff)
    _assert_gif(s.client.get(path, headers={"Referer": PAGE}))
    s.client.patch(
        "/api/v1/partners/gazette",
        json={"licenses": ["free-eligible"], "active": False},
        headers=s.staff,
    )
    _assert_gif(s.client.get(path, headers={"Referer": PAGE}))
    assert _hits(s) == []
    s.client.patch("/api/v1/partners/gazette", json={"active": True}, headers=s.staff)
    s.client.get(path, headers={"Referer": PAGE})
    assert len(_hits(s)) == 1


def test_pages_that_still_show_a_withdrawn_or_expired_piece_count(
    client: TestClient, staff_headers: dict, clock: Clock
) -> None:
    s = syndicated(client, staff_headers, window_days=7)
    s.piece("council-budget")
    path = _pixel_path(s)
    clock.advance(days=8)
    s.client.get(path, headers={"Referer": PAGE})
    s.client.post(
        "/api/v1/articles/council-budget/withdraw", json={"reason": "Legal"}, headers=s.staff
    )
    s.client.get(path, headers={"Referer": PAGE})
    assert [h["page"] for h in _hits(s)] == [PAGE, PAGE]


def test_a_failing_database_never_reaches_the_reader(caplog: pytest.LogCaptureFixture) -> None:
    broken = create_engine("sqlite:////nonexistent-dir/usage.db")
    record_hit(broken, PixelHit(1, 1, None, datetime(2026, 11, 26, tzinfo=UTC)))
    assert "could not record a pixel hit" in caplog.text
