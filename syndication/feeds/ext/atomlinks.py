"""Atom links (namespace http://www.w3.org/2005/Atom), written by us rather than feedgen.

feedgen 1.0.0 refuses `rel="license"` in `FeedEntry.link()`, drops `rel` and `type` from
entry links in Atom (upstream issue #135: a related link would become an alternate one),
and makes the RSS channel `<link>` whatever link came last. This extension owns them all:
entry links (alternate, RFC 4946 license, related) in Atom, the item `<link>` in RSS, and
the feed's self / RFC 5005 paging links and channel `<link>` in RSS.
"""

from __future__ import annotations

from typing import NamedTuple

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
NAME = "atomlinks"


class AtomLink(NamedTuple):
    """A tuple, not a dataclass: a feed builds three or more per entry (~4x cheaper)."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


LINK = f"{{{ATOM_NS}}}link"


def _append(parent: etree._Element, link: AtomLink) -> None:
    href, rel, type_, title = link
    attributes = {"href": href, "rel": rel}  # in this order, then type and title
    if type_:
        attributes["type"] = type_
    if title:
        attributes["title"] = title
    etree.SubElement(parent, LINK, attributes)


class AtomLinksFeed(BaseExtension):
    def __init__(self) -> None:
        self.links: list[AtomLink] = []
        self.channel_link: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        for link in self.links:
            _append(feed, link)
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        assert channel is not None
        for old in channel.findall(LINK):
            channel.remove(old)  # feedgen's own copy of the self link, without our type
        if self.channel_link is not None:
            link = channel.find("link")
            assert link is not None
            link.text = self.channel_link
        # Before the items, beside the channel metadata.
        anchor = channel.find("description")
        position = list(channel).index(anchor) + 1 if anchor is not None else 0
        for offset, link in enumerate(self.links):
            element = etree.Element(LINK, href=link.href, rel=link.rel)
            if link.type:
                element.set("type", link.type)
            channel.insert(position + offset, element)
        return feed


class AtomLinksEntry(BaseEntryExtension):
    def __init__(self) -> None:
        self.links: list[AtomLink] = []

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for link in self.links:
            _append(entry, link)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        alternate = next((link for link in self.links if link.rel == "alternate"), None)
        if alternate is not None and item.find("link") is None:
            etree.SubElement(item, "link").text = alternate.href
        return item
