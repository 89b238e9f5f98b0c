"""The JSON Feed 1.1 writer, with a `_rights` extension object on every item."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from syndication.feeds.view import (
    FeedItem,
    FeedView,
    Tombstone,
    categories,
    display_title,
    rights_text,
)

VERSION = "https://jsonfeed.org/version/1.1"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _item(item: FeedItem) -> dict[str, Any]:
    piece = item.piece
    body: dict[str, Any] = {
        "id": item.id,
        "url": piece.canonical_url,
        "title": display_title(piece),
        "content_html": item.content_html,
        "date_published": _iso(piece.published_at),
        "date_modified": _iso(item.updated),
        "authors": [{"name": piece.byline or piece.copyright_holder}],
        "tags": categories(piece),
        "_rights": {
            "status": "published",
            "license": piece.license_code,
            "license_name": piece.license_name,
            "license_url": piece.license_url,
            "credit_line": piece.credit_line,
            "credit_placement": piece.credit_placement,
            "copyright": rights_text(piece),
            "canonical_url": piece.canonical_url,
            "embargo_until": _iso(piece.embargoed_until) if piece.embargoed_until else None,
            "revision": piece.revision,
        },
    }
    if piece.summary:
        body["summary"] = piece.summary
    if piece.images:
        body["image"] = piece.images[0].url
    return body


def _tombstone(stone: Tombstone) -> dict[str, Any]:
    return {
        "id": stone.ref,
        "title": f"Withdrawn: {stone.headline}",
        "content_text": (
            f"This piece was withdrawn on {stone.when:%d %b %Y %H:%M} UTC and must be removed "
            f"wherever it was republished. Reason: {stone.reason}"
        ),
        "date_modified": _iso(stone.when),
        "_rights": {
            "status": "withdrawn",
            "withdrawn_at": _iso(stone.when),
            "reason": stone.reason,
            "license": stone.license_code,
            "license_name": stone.license_name,
            "license_url": stone.license_url,
            "canonical_url": stone.canonical_url,
        },
    }


def render_json(view: FeedView) -> bytes:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": view.title,
        "home_page_url": view.home_url,
        "feed_url": view.links.self,
        "description": view.subtitle,
        "items": [_tombstone(t) for t in view.tombstones] + [_item(i) for i in view.items],
    }
    if view.links.next:
        feed["next_url"] = view.links.next
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()
