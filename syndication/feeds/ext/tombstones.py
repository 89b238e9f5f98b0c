"""RFC 6721 tombstones (namespace http://purl.org/atompub/tombstones/1.0), Atom only.

`at:deleted-entry` elements are written into the feed before its entries, where RFC 4287's
schema allows extension elements.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from lxml import etree

from syndication.feeds.view import Tombstone

AT_NS = "http://purl.org/atompub/tombstones/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
NAME = "tombstones"


def rfc3339(tombstone: Tombstone) -> str:
    return tombstone.when.isoformat().replace("+00:00", "Z")


class TombstonesFeed(BaseExtension):
    def __init__(self) -> None:
        self.tombstones: list[Tombstone] = []

    def extend_ns(self) -> dict[str, str]:
        return {"at": AT_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        for stone in self.tombstones:
            deleted = etree.SubElement(
                feed, f"{{{AT_NS}}}deleted-entry", ref=stone.ref, when=rfc3339(stone)
            )
            etree.SubElement(deleted, f"{{{ATOM_NS}}}link", rel="via", href=stone.canonical_url)
            comment = etree.SubElement(deleted, f"{{{AT_NS}}}comment")
            comment.text = f"Withdrawn: {stone.reason}"
        return feed
