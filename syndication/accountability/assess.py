"""The compliance verdict for one partner page: pure, from the page's HTML and what we expect.

Checks: the credit line (normalised text match), a link to the canonical URL, rel=canonical
when the license requires it, our pixel when the license requires it, and, when the license
forbids modification, how much of the delivered body's text is on the page (word 5-shingles).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

SHINGLE = 5
ALTERED_BELOW = 0.9  # share of the delivered body's 5-word shingles that must be on the page
_WORD = re.compile(r"\w+")
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class Expected:
    credit_line: str
    canonical_url: str
    requires_canonical: bool
    pixel_url: str | None  # None: the license does not require the pixel
    body_html: str
    allows_modification: bool


@dataclass(frozen=True)
class PageVerdict:
    credit_line: bool
    canonical_link: bool
    rel_canonical: bool | None  # None: not required
    pixel: bool | None  # None: not required
    similarity: float | None  # None: modification allowed
    altered: bool | None

    @property
    def failures(self) -> tuple[str, ...]:
        checks = {
            "credit_line": self.credit_line,
            "canonical_link": self.canonical_link,
            "rel_canonical": self.rel_canonical is not False,
            "pixel": self.pixel is not False,
            "unaltered": self.altered is not True,
        }
        return tuple(name for name, ok in checks.items() if not ok)

    @property
    def verdict(self) -> str:
        return "non-compliant" if self.failures else "compliant"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return (
        pa.scheme.lower() in ("http", "https")
        and pa.scheme.lower() == pb.scheme.lower()
        and pa.netloc.lower() == pb.netloc.lower()
        and (pa.path.rstrip("/") or "/") == (pb.path.rstrip("/") or "/")
        and pa.query == pb.query
    )


def _document(html: str) -> etree._Element:
    try:
        return lxml.html.document_fromstring(html or "<html></html>")
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>")


def text_of(root: etree._Element) -> str:
    """Visible text, with a break after each block so words never run together."""
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
    return str(root.text_content())


def _phrase(text: str) -> str:
    """Words only, space-separated and padded: punctuation and markup splits do not matter."""
    return " " + " ".join(words(text)) + " "


def shingles(tokens: list[str], size: int = SHINGLE) -> set[tuple[str, ...]]:
    size = max(1, min(size, len(tokens)))
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def similarity(delivered_text: str, page_text: str) -> float:
    delivered = words(delivered_text)
    if not delivered:
        return 1.0
    size = min(SHINGLE, len(delivered))
    wanted = shingles(delivered, size)
    return round(len(wanted & shingles(words(page_text), size)) / len(wanted), 4)


def _attrs(root: etree._Element, xpath: str) -> list[str]:
    return [str(v) for v in root.xpath(xpath)]


def assess(page_html: str, expected: Expected) -> PageVerdict:
    root = _document(page_html)
    links = _attrs(root, "//a/@href")
    canonicals = [
        str(el.get("href", ""))
        for el in root.xpath("//link[@rel]")
        if "canonical" in str(el.get("rel", "")).lower().split()
    ]
    images = _attrs(root, "//img/@src")
    page_text = text_of(root)
    similarity_score = (
        None
        if expected.allows_modification
        else similarity(text_of(_document(expected.body_html)), page_text)
    )
    return PageVerdict(
        credit_line=_phrase(expected.credit_line) in _phrase(page_text),
        canonical_link=any(same_url(h, expected.canonical_url) for h in links),
        rel_canonical=(
            any(same_url(h, expected.canonical_url) for h in canonicals)
            if expected.requires_canonical
            else None
        ),
        pixel=(
            any(same_url(src, expected.pixel_url) for src in images) if expected.pixel_url else None
        ),
        similarity=similarity_score,
        altered=None if similarity_score is None else similarity_score < ALTERED_BELOW,
    )
