"""The one HTML sanitiser for article bodies (nh3, an allow-list of ordinary article markup)."""

from __future__ import annotations

from html.parser import HTMLParser

import nh3

from syndication.fields import strip_xml_invalid

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"src", "alt", "title", "width", "height"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_BODY_CHARS = 2_000_000
# libxml2 (lxml, PHP's DOMDocument under WordPress) silently drops whatever nests deeper
# than 255 elements; article markup needs a few levels, so refuse well before that.
MAX_DEPTH = 100
VOID = frozenset({"br", "hr", "img"})


def sanitize_html(html: str) -> str:
    return nh3.clean(
        strip_xml_invalid(html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


class _Depth(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = self.deepest = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            self.depth -= 1


def nesting_depth(html: str) -> int:
    """How deeply elements nest in sanitised (so well-formed) markup."""
    parser = _Depth()
    parser.feed(html)
    parser.close()
    return parser.deepest
