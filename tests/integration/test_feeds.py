"""What partners receive: entitlement per partner, republishable content, machine-readable
rights, and feeds that parse (feedparser), validate (RELAX NG, JSON Schema) and carry every
element the issue names (XPath)."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from jsonschema import FormatChecker, validators
from litestar.testing import TestClient
from lxml import etree

from tests.integration.feeds_setup import World, build_world

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "at": "http://purl.org/atompub/tombstones/1.0",
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}


@pytest.fixture
def world(client: TestClient, staff_headers: dict[str, str]) -> World:
    return build_world(client, staff_headers)


def fetch(client: TestClient, world: World, slug: str, path: str, **params: str) -> bytes:
    response = client.get(path, headers=world.auth(slug), params=params)
    assert response.status_code == 200, response.text
    return response.content


def atom_doc(client: TestClient, world: World, slug: str) -> etree._Element:
    return etree.fromstring(fetch(client, world, slug, "/feeds/atom.xml"))


def rss_doc(client: TestClient, world: World, slug: str) -> etree._Element:
    return etree.fromstring(fetch(client, world, slug, "/feeds/rss.xml"))


def json_doc(client: TestClient, world: World, slug: str) -> dict:
    return json.loads(fetch(client, world, slug, "/feeds/feed.json"))


def headlines(doc: etree._Element) -> set[str]:
    return set(doc.xpath("//a:entry/a:title/text() | //item/title/text()", namespaces=NS))


def test_each_partner_gets_exactly_what_it_is_entitled_to(client: TestClient, world: World) -> None:
    # gazette: holds free-eligible, meets the audience, not trusted with embargoes
    assert headlines(atom_doc(client, world, "gazette")) == {"Council approves the budget"}
    # tiny: below the license's minimum audience
    assert headlines(atom_doc(client, world, "tiny")) == set()
    assert headlines(rss_doc(client, world, "tiny")) == set()
    assert json_doc(client, world, "tiny")["items"] == []
    # member: another license altogether
    assert headlines(rss_doc(client, world, "member")) == {"For members"}
    # trusted: sees the embargoed piece, marked with its embargo time
    trusted = json_doc(client, world, "trusted")
    titles = {i["title"]: i for i in trusted["items"]}
    embargoed = titles["EMBARGOED until 26 Nov 2026 18:00 UTC: Embargoed report"]
    assert embargoed["_rights"]["embargo_until"] == "2026-11-26T18:00:00Z"
    assert "Embargoed until 26 November 2026, 18:00 UTC" in embargoed["content_html"]
    assert titles["Council approves the budget"]["_rights"]["embargo_until"] is None


def test_atom_is_valid_rfc4287_and_carries_rights(client: TestClient, world: World) -> None:
    body = fetch(client, world, "gazette", "/feeds/atom.xml")
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    doc = etree.fromstring(body)
    assert schema.validate(doc), schema.error_log
    (entry,) = doc.xpath("/a:feed/a:entry", namespaces=NS)

    def one(path: str) -> str:
        (value,) = entry.xpath(path, namespaces=NS)
        return str(value)

    assert one("a:id/text()").startswith("tag:testserver.local,")
    assert "Free for eligible publishers" in one("a:rights/text()")
    assert one("a:link[@rel='license']/@href") == "https://news.example.org/republish"
    assert one("a:link[@rel='related']/@href") == "https://news.example.org/2026/earlier"
    assert one("a:link[@rel='related']/@title") == "Earlier"
    assert one("a:link[@rel='alternate']/@href") == "https://news.example.org/2026/council-budget"
    assert one("a:link[@rel='alternate']/@type") == "text/html"
    assert entry.xpath("count(a:link[not(@rel)])", namespaces=NS) == 0
    assert one("a:author/a:name/text()") == "Ana Example"
    assert {c for c in entry.xpath("a:category/@term", namespaces=NS)} == {
        "politics", "budget", "council"}  # fmt: skip
    assert one("a:published/text()") == "2026-11-26T08:00:00+00:00"
    assert one("a:updated/text()")
    assert one("a:content/@type") == "html"
    assert one("media:content/@url") == "https://news.example.org/a.jpg"
    assert one("media:content/@type") == "image/jpeg"
    assert one("media:content/media:credit/text()") == "Photo: A"
    assert "The Example News Foundation" in one("media:content/media:copyright/text()")
    assert doc.xpath("/a:feed/a:link[@rel='self']/@href", namespaces=NS) == [
        "http://testserver.local/feeds/atom.xml"]  # fmt: skip


def test_rss_carries_rights_and_content(client: TestClient, world: World) -> None:
    doc = rss_doc(client, world, "gazette")
    (item,) = doc.xpath("/rss/channel/item")
    assert doc.xpath("/rss/channel/copyright/text()")
    assert "Free for eligible publishers" in item.xpath("dc:rights/text()", namespaces=NS)[0]
    assert item.xpath("dc:creator/text()", namespaces=NS) == ["Ana Example"]
    assert item.xpath("guid/@isPermaLink") == ["false"]
    assert item.xpath("guid/text()")[0].startswith("tag:testserver.local,")
    assert item.xpath("link/text()") == ["https://news.example.org/2026/council-budget"]
    assert item.xpath("media:content/media:credit/text()", namespaces=NS) == ["Photo: A"]
    assert item.xpath("media:content/media:copyright/text()", namespaces=NS)
    encoded = item.xpath("content:encoded/text()", namespaces=NS)[0]
    assert 'class="syndication-credit"' in encoded
    # The channel <link> is the site, not the last link handed to feedgen.
    assert doc.xpath("/rss/channel/link/text()") == ["http://testserver.local/"]
    assert doc.xpath("/rss/channel/a:link[@rel='self']/@type", namespaces=NS) == [
        "application/rss+xml"]  # fmt: skip


def test_content_is_ready_to_republish(client: TestClient, world: World) -> None:
    (item,) = json_doc(client, world, "gazette")["items"]
    html = item["content_html"]
    credit = "Content created by The Example News Foundation is available without charge."
    assert html.count(credit) == 2  # credit_placement "both"
    assert "<h1>Council approves the budget</h1>" in html and "By Ana Example" in html
    assert '<a href="https://www.politico.com/">Politico</a>' in html
    assert '<a href="https://news.example.org/2026/earlier">Earlier</a>' in html
    assert 'href="https://news.example.org/2026/council-budget"' in html
    assert "Photo: A" in html and "https://news.example.org/a.jpg" in html
    assert 'class="syndication-pixel" src="http://testserver.local/px/' in html


def test_no_output_carries_a_withheld_image_or_a_script(client: TestClient, world: World) -> None:
    client.patch(
        "/api/v1/articles/council-budget",
        json={"body_html": "<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(2)>"},
        headers=world.staff,
    )
    for slug in ("gazette", "trusted", "member"):
        for path in ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json"):
            body = fetch(client, world, slug, path).decode()
            assert "secret.jpg" not in body and "Agency" not in body
            assert "<script" not in body.lower() and "&lt;script" not in body.lower()
            assert "onerror" not in body.lower()


def test_member_license_has_no_pixel_and_bottom_credit(client: TestClient, world: World) -> None:
    (item,) = json_doc(client, world, "member")["items"]
    assert "syndication-pixel" not in item["content_html"]
    assert item["content_html"].count("syndication-credit") == 1
    assert item["_rights"]["license"] == "members-only"


def test_json_feed_validates_and_carries_rights(client: TestClient, world: World) -> None:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text())
    feed = json_doc(client, world, "trusted")
    validator = validators.validator_for(schema)(schema, format_checker=FormatChecker())
    assert not list(validator.iter_errors(feed))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "http://testserver.local/feeds/feed.json"
    item = next(i for i in feed["items"] if i["url"].endswith("council-budget"))
    assert item["authors"] == [{"name": "Ana Example"}]
    assert item["tags"] == ["politics", "budget", "council"]
    rights = item["_rights"]
    assert rights["license"] == "free-eligible"
    assert rights["license_url"] == "https://news.example.org/republish"
    assert rights["canonical_url"] == "https://news.example.org/2026/council-budget"
    assert rights["credit_line"].startswith("Content created by")


def test_feedparser_reads_rights_and_license_back(client: TestClient, world: World) -> None:
    atom = feedparser.parse(fetch(client, world, "gazette", "/feeds/atom.xml"))
    rss = feedparser.parse(fetch(client, world, "gazette", "/feeds/rss.xml"))
    assert not atom.bozo, atom.get("bozo_exception")
    assert not rss.bozo, rss.get("bozo_exception")
    (entry,) = atom.entries
    assert "Free for eligible publishers" in entry.rights
    assert entry.license == "https://news.example.org/republish"
    assert [link.href for link in entry.links if link.rel == "related"] == [
        "https://news.example.org/2026/earlier"]  # fmt: skip
    assert entry.id.startswith("tag:")
    (item,) = rss.entries
    assert "Free for eligible publishers" in item.rights
    assert item.author == "Ana Example"
    assert item.id == entry.id
    assert item.media_credit[0]["content"] == "Photo: A"


def test_related_links_are_absolute(client: TestClient, world: World) -> None:
    client.patch(
        "/api/v1/articles/council-budget",
        json={"related": [{"title": "Later", "url": "https://news.example.org/2026/later"}]},
        headers=world.staff,
    )
    doc = atom_doc(client, world, "gazette")
    hrefs = doc.xpath("//@href | //@url | //@src")
    assert hrefs and all(str(h).startswith(("http://", "https://")) for h in hrefs)
