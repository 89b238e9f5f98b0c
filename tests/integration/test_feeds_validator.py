"""The W3C Feed Validator's rules that apply to our output (w3c/feedvalidator, src/feedvalidator:
item.py, link.py, media.py, validators.py), and how SimplePie reads the namespaces we use.

The validator is not installable here; each test names the rule it stands for.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient
from lxml import etree

from tests.factories import article_body, create
from tests.integration.feeds_setup import World, build_world

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "at": "http://purl.org/atompub/tombstones/1.0",
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
# validators.py mime_re: type "/" subtype, optional parameters
MIME = re.compile(r"^[A-Za-z0-9!#$&.+^_-]{1,127}/[A-Za-z0-9!#$&.+^_-]{1,127}(;.*)?$")
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} ([+-]\d{4}|GMT|UT)$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# link.py validRelations
REGISTERED_RELS = {"alternate", "current", "describedby", "edit", "edit-media", "enclosure",
                   "first", "hub", "last", "license", "next", "next-archive", "payment",
                   "prev-archive", "previous", "related", "replies", "search", "self",
                   "service", "up", "via"}  # fmt: skip
RFC5005 = {"current", "first", "last", "next", "next-archive", "prev-archive", "previous"}


@pytest.fixture
def world(client: TestClient, staff_headers: dict[str, str]) -> World:
    world = build_world(client, staff_headers)
    for n in range(3):
        create(client, staff_headers, "/api/v1/articles", article_body(f"extra-{n}"))
    client.post("/api/v1/articles/extra-0/withdraw", json={"reason": "Error"},
                headers=staff_headers)  # fmt: skip
    return world


def get(client: TestClient, world: World, path: str, **params: str) -> etree._Element:
    response = client.get(path, headers=world.auth("trusted"), params=params)
    assert response.status_code == 200
    return etree.fromstring(response.content)


def absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def test_rss_dates_are_rfc822(client: TestClient, world: World) -> None:
    doc = get(client, world, "/feeds/rss.xml")
    dates = doc.xpath("//pubDate/text() | //lastBuildDate/text()")
    assert len(dates) >= 4
    for value in dates:
        assert RFC822.match(value), value  # validators.py rfc822
        assert parsedate_to_datetime(value).tzinfo is not None


def test_atom_dates_are_rfc3339(client: TestClient, world: World) -> None:
    doc = get(client, world, "/feeds/atom.xml")
    values = doc.xpath("//a:updated/text() | //a:published/text() | //at:deleted-entry/@when",
                       namespaces=NS)  # fmt: skip
    assert values and all(RFC3339.match(v) for v in values), values


def test_rss_has_an_atom_self_link_matching_its_location(client: TestClient, world: World) -> None:
    doc = get(client, world, "/feeds/rss.xml", limit="2")
    (link,) = doc.xpath("/rss/channel/a:link[@rel='self']", namespaces=NS)  # MissingAtomSelfLink
    assert link.get("href") == "http://testserver.local/feeds/rss.xml?limit=2"  # SelfDoesntMatch
    assert link.get("type") == "application/rss+xml"  # SelfNotAtom


def test_guids_and_ids_are_unique_and_not_permalinks(client: TestClient, world: World) -> None:
    rss = get(client, world, "/feeds/rss.xml")
    guids = rss.xpath("//item/guid")
    assert len(guids) == len({g.text for g in guids}) >= 3  # item.py unique('guid')
    # item.py guid: a tag: URI with isPermaLink true is InvalidPermalink
    assert all(g.get("isPermaLink") == "false" for g in guids)
    atom = get(client, world, "/feeds/atom.xml")
    ids = atom.xpath("//a:entry/a:id/text()", namespaces=NS)
    assert len(ids) == len(set(ids)) and all(i.startswith("tag:") for i in ids)


def test_no_relative_urls_anywhere(client: TestClient, world: World) -> None:
    for path in ("/feeds/rss.xml", "/feeds/atom.xml"):
        doc = get(client, world, path)
        urls = [str(u) for u in doc.xpath("//@href | //@url | //link/text()")]
        assert urls and all(absolute(u) for u in urls), urls
        for html in doc.xpath("//content:encoded/text() | //a:content/text()", namespaces=NS):
            fragment = etree.HTML(html)
            refs = fragment.xpath("//@href | //@src")
            assert refs and all(absolute(str(r)) for r in refs), refs


def test_media_content_is_well_formed(client: TestClient, world: World) -> None:
    for path in ("/feeds/rss.xml", "/feeds/atom.xml"):
        doc = get(client, world, path)
        contents = doc.xpath("//media:content", namespaces=NS)
        assert contents
        for content in contents:
            assert MIME.match(content.get("type")), content.get("type")  # InvalidMIMEAttribute
            assert content.get("medium") in {"image", "audio", "video", "document", "executable"}
            assert absolute(content.get("url"))
            for text in content.xpath("media:description", namespaces=NS):
                assert text.get("type") in (None, "plain", "html")  # InvalidMediaTextType
            for credit in content.xpath("media:credit", namespaces=NS):
                assert credit.get("role") is None or credit.get("role").islower()
            assert len(content.xpath("media:copyright", namespaces=NS)) <= 1  # noduplicates


def test_rss_items_follow_the_item_rules(client: TestClient, world: World) -> None:
    doc = get(client, world, "/feeds/rss.xml")
    for item in doc.xpath("//item"):
        names = [etree.QName(c).localname if c.prefix else c.tag for c in item]
        # item.py NeedDescriptionBeforeContent
        assert names.index("description") < names.index("encoded")
        # DuplicateItemSemantics: dc:creator beside author, pubDate beside dc:date
        assert "author" not in names and "date" not in names
        assert names.count("link") == 1 and names.count("guid") == 1  # noduplicates
        assert item.findtext("title").strip()  # nonblank


def test_atom_links_are_registered_and_unambiguous(client: TestClient, world: World) -> None:
    doc = get(client, world, "/feeds/atom.xml")
    for link in doc.xpath("//a:link", namespaces=NS):
        assert link.get("rel") in REGISTERED_RELS  # UnregisteredAtomLinkRel
        assert link.get("type") is None or MIME.match(link.get("type"))
        assert link.get("title") is None or link.get("title").strip()  # AttrNotBlank
    for entry in doc.xpath("//a:entry", namespaces=NS):
        rels = entry.xpath("a:link/@rel", namespaces=NS)
        assert not set(rels) & RFC5005  # FeedHistoryRelInEntry
        alternates = entry.xpath("a:link[@rel='alternate']", namespaces=NS)
        pairs = [(a.get("type"), a.get("hreflang")) for a in alternates]
        assert len(pairs) == len(set(pairs)) == 1  # one alternate per type and language
        assert entry.xpath("a:author/a:name/text()", namespaces=NS)  # MissingAuthor


def test_simplepie_finds_tombstones_on_the_feed(client: TestClient, world: World) -> None:
    # FeedWordPress (SimplePie) reads them with get_feed_tags(TOMBSTONES_NS, 'deleted-entry'):
    # direct children of atom:feed, with `ref` as a plain (un-namespaced) attribute.
    doc = get(client, world, "/feeds/atom.xml")
    stones = doc.xpath("/a:feed/at:deleted-entry", namespaces=NS)
    assert len(stones) == 1 and stones[0].get("ref", "").startswith("tag:")
    assert not doc.xpath("//a:entry//at:*", namespaces=NS)


def test_simplepie_finds_credits_and_rights_where_it_looks(
    client: TestClient, world: World
) -> None:
    # SimplePie_Item::get_enclosures reads media:credit / media:copyright inside media:content
    # (or at item level); get_copyright reads dc:rights (RSS) and atom:rights (Atom).
    rss = get(client, world, "/feeds/rss.xml")
    for item in rss.xpath("//item"):
        assert item.xpath("media:content/media:credit/text()", namespaces=NS)
        assert item.xpath("dc:rights/text()", namespaces=NS)
        assert item.xpath("content:encoded/text()", namespaces=NS)
    atom = get(client, world, "/feeds/atom.xml")
    for entry in atom.xpath("//a:entry", namespaces=NS):
        assert entry.xpath("a:rights/text()", namespaces=NS)
        assert entry.xpath("media:content/media:credit/text()", namespaces=NS)
