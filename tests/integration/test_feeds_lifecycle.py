"""Feeds over time: embargoes lift, windows close, corrections and withdrawals propagate."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from lxml import etree
from sqlalchemy import update
from sqlalchemy.engine import Engine

from syndication import catalog
from syndication.articles.models import Article
from syndication.db import session_scope
from tests.conftest import Clock
from tests.factories import article_body, create, license_body
from tests.integration.feeds_setup import World, build_world

ATOM, RSS, JSON = "/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json"
NS = {"a": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0"}
SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "atom.rng"


@pytest.fixture
def world(client: TestClient, staff_headers: dict[str, str]) -> World:
    return build_world(client, staff_headers)


def titles(client: TestClient, world: World, slug: str) -> list[str]:
    return [i["title"] for i in client.get(JSON, headers=world.auth(slug)).json()["items"]]


def test_embargo_lifts_by_time_alone(client: TestClient, world: World, clock: Clock) -> None:
    in_url = {"key": world.keys["gazette"]}  # the header's answer is always revalidated
    before = client.get(ATOM, params=in_url)
    assert b"Embargoed report" not in before.content
    # The cache may not be reused past the lift (18:00; the clock says 12:00).
    assert before.headers["cache-control"] == "private, max-age=60"
    clock.advance(hours=5, minutes=59, seconds=30)
    close = client.get(ATOM, params=in_url)
    assert close.headers["cache-control"] == "private, max-age=30"
    assert close.headers["etag"] == before.headers["etag"]
    clock.advance(seconds=30)  # 18:00: nothing was written, yet the answer changes
    after = client.get(
        ATOM, headers={**world.auth("gazette"), "If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert b"Embargoed report" in after.content
    assert after.headers["etag"] != before.headers["etag"]
    # For the trusted partner, the embargo mark goes away at the same moment.
    assert "Embargoed report" in titles(client, world, "trusted")


def test_a_feed_shown_before_an_embargo_lifts_is_the_same_bytes_at_any_moment(
    client: TestClient, world: World, clock: Clock
) -> None:
    """The partner trusted with embargoes sees the embargoed piece early; its feed must not
    carry the render's own time (it did, as the piece's `updated` and the feed's): each
    worker renders at its own moment, and two workers answered two ETags for one version,
    so a partner moving between them got a full body instead of a 304. HEAD renders afresh,
    as another worker would."""
    first = client.head(ATOM, headers=world.auth("trusted"))
    clock.advance(minutes=7)
    again = client.head(ATOM, headers=world.auth("trusted"))
    assert first.status_code == again.status_code == 200
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["last-modified"] == first.headers["last-modified"]
    body = client.get(ATOM, headers=world.auth("trusted")).content
    assert b"Embargoed report" in body and b"2026-11-26T12:07" not in body


def test_window_closing_removes_a_piece(client: TestClient, world: World, clock: Clock) -> None:
    create(client, world.staff, "/api/v1/licenses",
           license_body("short", name="Short window", window_days=1, min_audience=0))  # fmt: skip
    client.patch("/api/v1/partners/gazette", json={"licenses": ["free-eligible", "short"]},
                 headers=world.staff)  # fmt: skip
    create(client, world.staff, "/api/v1/articles",
           article_body("brief", headline="Brief", license="short"))  # fmt: skip
    first = client.get(JSON, headers=world.auth("gazette"))
    assert "Brief" in [i["title"] for i in first.json()["items"]]
    clock.advance(hours=20)  # published 08:00, window of one day: closes 27 Nov 08:00
    again = client.get(
        JSON, headers={**world.auth("gazette"), "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 200 and "Brief" not in [i["title"] for i in again.json()["items"]]


def test_a_tombstone_ageing_out_moves_last_modified(
    client: TestClient, world: World, clock: Clock
) -> None:
    """A tombstone leaves the feed 30 days after the withdrawal, by time alone: a client that
    revalidates with If-Modified-Since alone must get the changed feed, not a 304."""
    clock.advance(days=1)  # past the embargo's lift: nothing else changes by time from here
    gone = client.post("/api/v1/articles/council-budget/withdraw",
                       json={"reason": "Legal: court order"}, headers=world.staff)  # fmt: skip
    assert gone.status_code in (200, 201), gone.text
    with_stone = client.get(ATOM, headers=world.auth("gazette"))
    assert b"deleted-entry" in with_stone.content
    since = {**world.auth("gazette"), "If-Modified-Since": with_stone.headers["last-modified"]}
    clock.advance(days=29)
    assert client.get(ATOM, headers=since).status_code == 304  # nothing changed yet
    clock.advance(days=1, hours=1)
    aged = client.get(ATOM, headers=since)
    assert aged.status_code == 200 and b"deleted-entry" not in aged.content
    assert aged.headers["last-modified"] != with_stone.headers["last-modified"]


def test_correction_bumps_updated_and_invalidates_the_etag(
    client: TestClient, world: World, clock: Clock
) -> None:
    first = client.get(ATOM, headers=world.auth("gazette"))
    doc = etree.fromstring(first.content)
    (updated,) = doc.xpath("//a:entry/a:updated/text()", namespaces=NS)
    clock.advance(hours=1)
    note = {"text": "The vote was 7-2, not 6-3."}
    fixed = client.post(
        "/api/v1/articles/council-budget/corrections", json=note, headers=world.staff
    )
    assert fixed.status_code in (200, 201), fixed.text
    after = client.get(
        ATOM, headers={**world.auth("gazette"), "If-None-Match": first.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    doc = etree.fromstring(after.content)
    (now_updated,) = doc.xpath("//a:entry/a:updated/text()", namespaces=NS)
    # (creation stamps updated_at with the wall clock, the correction with the app's clock)
    assert now_updated != updated and now_updated == "2026-11-26T13:00:00+00:00"
    (content,) = doc.xpath("//a:entry/a:content/text()", namespaces=NS)
    assert "The vote was 7-2, not 6-3." in content
    assert 'data-revision="2"' in content


def test_withdrawal_leaves_a_tombstone(client: TestClient, world: World, clock: Clock) -> None:
    (entry_id,) = etree.fromstring(client.get(ATOM, headers=world.auth("gazette")).content).xpath(
        "//a:entry/a:id/text()", namespaces=NS)  # fmt: skip
    clock.advance(hours=2)
    gone = client.post("/api/v1/articles/council-budget/withdraw",
                       json={"reason": "Legal: court order"}, headers=world.staff)  # fmt: skip
    assert gone.status_code in (200, 201), gone.text

    doc = etree.fromstring(client.get(ATOM, headers=world.auth("gazette")).content)
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(doc), schema.error_log
    assert doc.xpath("//a:entry", namespaces=NS) == []
    (stone,) = doc.xpath("/a:feed/at:deleted-entry", namespaces=NS)
    assert stone.get("ref") == entry_id
    assert stone.get("when").startswith("2026-11-26T")
    assert "Legal: court order" in stone.xpath("at:comment/text()", namespaces=NS)[0]
    feed = client.get(JSON, headers=world.auth("gazette")).json()
    (item,) = feed["items"]
    assert item["id"] == entry_id and item["_rights"]["status"] == "withdrawn"
    assert "Legal: court order" in item["content_text"] and "content_html" not in item
    assert b"council-budget" not in client.get(RSS, headers=world.auth("gazette")).content

    # Only partners entitled before the withdrawal hear of it.
    assert b"deleted-entry" not in client.get(ATOM, headers=world.auth("tiny")).content
    assert b"deleted-entry" not in client.get(ATOM, headers=world.auth("member")).content
    assert b"deleted-entry" in client.get(ATOM, headers=world.auth("trusted")).content

    clock.advance(days=30, hours=1)
    assert b"deleted-entry" not in client.get(ATOM, headers=world.auth("gazette")).content


def test_tombstones_come_before_entries(client: TestClient, world: World) -> None:
    create(client, world.staff, "/api/v1/articles", article_body("second"))
    client.post("/api/v1/articles/second/withdraw", json={"reason": "Duplicate"},
                headers=world.staff)  # fmt: skip
    doc = etree.fromstring(client.get(ATOM, headers=world.auth("gazette")).content)
    tags = [etree.QName(c).localname for c in doc]
    assert tags.index("deleted-entry") < tags.index("entry")


def test_xml_invalid_characters_are_stripped(
    client: TestClient, world: World, engine: Engine
) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Article)
            .where(Article.slug == "council-budget")
            .values(headline="Bad\x0bchars\x01here", body_html="<p>a\x02b\x1fc</p>")
        )
        catalog.bump(session)
    for path in (ATOM, RSS):
        body = client.get(path, headers=world.auth("gazette")).content
        doc = etree.fromstring(body)  # would raise on a control character
        assert b"Badcharshere" in etree.tostring(doc)
    assert "Badcharshere" in titles(client, world, "gazette")
