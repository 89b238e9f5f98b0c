"""Read a partner feed the way a strict reader would, following its RFC 5005 `next` links.

Shared by the isolation property test and the live load test: every page must parse (Atom by
lxml against RELAX NG, RSS by lxml and feedparser without bozo, JSON Feed by json.loads), and
the answer is the set of canonical URLs of its entries and of its tombstones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import feedparser
import httpx
from lxml import etree

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NS = {"a": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0"}
MAX_PAGES = 50


class MalformedFeed(AssertionError):
    pass


@dataclass
class FeedRead:
    entries: set[str] = field(default_factory=set)
    tombstones: set[str] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)


@lru_cache(maxsize=1)
def _atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


def _xml(body: bytes, where: str) -> etree._Element:
    try:
        return etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        raise MalformedFeed(f"{where}: {exc}") from exc


def _page(fmt: str, body: bytes, read: FeedRead, where: str) -> str | None:
    """Adds one page's entries and tombstones to `read`; returns the next page's URL."""
    if fmt == "feed.json":
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise MalformedFeed(f"{where}: {exc}") from exc
        for item in doc["items"]:
            gone = item["_rights"]["status"] == "withdrawn"
            (read.tombstones if gone else read.entries).add(item["_rights"]["canonical_url"])
        return doc.get("next_url")
    root = _xml(body, where)
    if fmt == "atom.xml":
        if not _atom_schema().validate(root):
            raise MalformedFeed(f"{where}: {_atom_schema().error_log.last_error}")
        read.entries.update(root.xpath("a:entry/a:link[@rel='alternate']/@href", namespaces=NS))
        read.tombstones.update(
            root.xpath("at:deleted-entry/a:link[@rel='via']/@href", namespaces=NS)
        )
        nexts = root.xpath("a:link[@rel='next']/@href", namespaces=NS)
    else:
        parsed = feedparser.parse(body)
        if parsed.bozo:
            raise MalformedFeed(f"{where}: {parsed.bozo_exception}")
        read.entries.update(root.xpath("channel/item/link/text()"))
        nexts = root.xpath("channel/a:link[@rel='next']/@href", namespaces=NS)
    return nexts[0] if nexts else None


def feed_entries(
    client: httpx.Client, path: str, headers: dict[str, str], max_pages: int = MAX_PAGES
) -> FeedRead | None:
    """The first `max_pages` pages of the feed at `path`; None when the key is refused (401)."""
    fmt = path.split("?")[0].rsplit("/", 1)[1]
    read, url = FeedRead(), path
    for _ in range(max_pages):
        answer = client.get(url, headers=headers)
        read.statuses.append(answer.status_code)
        if answer.status_code == 401 and url == path:
            return None
        if answer.status_code != 200:
            raise MalformedFeed(f"{url}: {answer.status_code} {answer.text[:200]}")
        url = _page(fmt, answer.content, read, url)
        if url is None:
            return read
    return read
