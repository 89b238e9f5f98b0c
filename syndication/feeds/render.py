"""The writers: FeedView -> bytes, one pure function per format, chosen from an explicit dict."""

from __future__ import annotations

from collections.abc import Callable

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from syndication.feeds.ext import atomlinks, mediarss, tombstones
from syndication.feeds.ext.atomlinks import AtomLink
from syndication.feeds.jsonfeed import render_json
from syndication.feeds.view import FeedItem, FeedView, categories, display_title, rights_text

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
HTML_TYPE = "text/html"


def _generator(view: FeedView, self_type: str) -> FeedGenerator:
    rss = self_type == RSS_TYPE
    fg = FeedGenerator()
    fg.register_extension(atomlinks.NAME, atomlinks.AtomLinksFeed, atomlinks.AtomLinksEntry)
    fg.register_extension(mediarss.NAME, mediarss.MediaFeed, mediarss.MediaEntry)
    # Each only where it writes anything: feedgen gives every entry an instance of every
    # extension registered on the feed, used or not.
    if rss:
        fg.load_extension("dc", atom=False, rss=True)
    else:
        fg.register_extension(tombstones.NAME, tombstones.TombstonesFeed, None, rss=False)
    fg.id(view.feed_id)
    fg.title(view.title)
    fg.subtitle(view.subtitle)
    fg.description(view.subtitle)
    fg.link(href=view.home_url, rel="alternate")  # RSS needs a channel link; ours replaces it
    fg.updated(view.updated)
    fg.lastBuildDate(view.updated)
    fg.rights(view.rights)
    fg.copyright(view.rights)
    fg.generator("syndication")
    links = [AtomLink(view.links.self, "self", self_type), AtomLink(view.links.first, "first")]
    if view.links.next:
        links.append(AtomLink(view.links.next, "next", self_type))
    if view.links.previous:
        links.append(AtomLink(view.links.previous, "previous", self_type))
    ext = getattr(fg, atomlinks.NAME)
    ext.links = links
    ext.channel_link = view.home_url
    return fg


def _entry(fg: FeedGenerator, item: FeedItem, *, rss: bool) -> FeedEntry:
    piece = item.piece
    fe = fg.add_entry(order="append")
    fe.guid(item.id, permalink=False)
    fe.title(display_title(piece))
    fe.updated(item.updated)
    fe.published(piece.published_at)
    if rss:
        fe.description(piece.summary or piece.headline)
        fe.content(item.content_html)  # content:encoded beside the description
        fe.dc.dc_creator(piece.byline or piece.copyright_holder)
        fe.dc.dc_rights(rights_text(piece))
    else:
        fe.content(item.content_html, type="html")
        if piece.summary:
            fe.summary(piece.summary)
        fe.author(name=piece.byline or piece.copyright_holder)
        fe.rights(rights_text(piece))
    fe.category([{"term": term} for term in categories(piece)])
    links = [
        AtomLink(piece.canonical_url, "alternate", HTML_TYPE),
        AtomLink(piece.license_url, "license", HTML_TYPE, piece.license_name),
        *(AtomLink(r.url, "related", HTML_TYPE, r.title) for r in piece.related),
    ]
    getattr(fe, atomlinks.NAME).links = links
    media = getattr(fe, mediarss.NAME)
    media.pictures = list(piece.images)
    media.copyright = f"Copyright {piece.copyright_holder}"
    return fe


def render_atom(view: FeedView) -> bytes:
    fg = _generator(view, ATOM_TYPE)
    getattr(fg, tombstones.NAME).tombstones = list(view.tombstones)
    for item in view.items:
        _entry(fg, item, rss=False)
    return fg.atom_str(pretty=False)  # type: ignore[no-any-return]


def render_rss(view: FeedView) -> bytes:
    fg = _generator(view, RSS_TYPE)
    for item in view.items:  # withdrawn pieces simply leave RSS: it has no tombstones
        _entry(fg, item, rss=True)
    return fg.rss_str(pretty=False)  # type: ignore[no-any-return]


Writer = Callable[[FeedView], bytes]
WRITERS: dict[str, tuple[str, Writer]] = {
    "atom": (f"{ATOM_TYPE}; charset=utf-8", render_atom),
    "rss": (f"{RSS_TYPE}; charset=utf-8", render_rss),
    "json": ("application/feed+json; charset=utf-8", render_json),
}
