"""Media RSS (namespace http://search.yahoo.com/mrss/) for syndicated images, Atom and RSS.

Only the images the view carries appear, and the view carries only those marked `syndicate`.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from syndication.republish.view import Picture

MEDIA_NS = "http://search.yahoo.com/mrss/"
NAME = "mediarss"
CONTENT, DESCRIPTION = f"{{{MEDIA_NS}}}content", f"{{{MEDIA_NS}}}description"
CREDIT, COPYRIGHT = f"{{{MEDIA_NS}}}credit", f"{{{MEDIA_NS}}}copyright"
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
               ".svg": "image/svg+xml"}  # fmt: skip


def image_type(url: str) -> str | None:
    """A registered MIME type from the URL's extension, or None (then `type` is left out)."""
    path = urlsplit(url).path.lower()
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    return IMAGE_TYPES.get(suffix) or (
        guess if (guess := mimetypes.guess_type(path)[0]) and guess.startswith("image/") else None
    )


class MediaFeed(BaseExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}


class MediaEntry(BaseEntryExtension):
    def __init__(self) -> None:
        self.pictures: list[Picture] = []
        self.copyright: str = ""

    def _extend(self, entry: etree._Element) -> etree._Element:
        for picture in self.pictures:
            content = etree.SubElement(entry, CONTENT, url=picture.url, medium="image")
            mime = image_type(picture.url)
            if mime:
                content.set("type", mime)
            if picture.caption:
                etree.SubElement(content, DESCRIPTION, type="plain").text = picture.caption
            if picture.credit:
                etree.SubElement(content, CREDIT).text = picture.credit
            if self.copyright:
                etree.SubElement(content, COPYRIGHT).text = self.copyright
        return entry

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        return self._extend(entry)

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return self._extend(item)
