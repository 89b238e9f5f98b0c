"""The republishable HTML fragment, shared by feeds and bundles; and the Jinja2 environment of
the bundle templates.

The fragment is plain Python rather than a template: a feed renders 50 of them on every cold
render, and Jinja2's per-render context and generator cost ~4x the string building itself.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from syndication.republish.view import Republication

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
PIXEL_ATTRIBUTES = 'alt="" width="1" height="1" referrerpolicy="no-referrer-when-downgrade"'


def escape(value: object) -> str:
    """markupsafe.escape's output for plain values, without building a Markup per call."""
    return (
        str(value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def utc(moment: datetime) -> str:
    return moment.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc
    env.filters["iso"] = iso
    return env


def render_fragment(piece: Republication) -> str:
    """The HTML a partner republishes: the same for feeds and bundles. No scripts, no inline
    styles. Every value is escaped, as the templates would, but the sanitised body."""
    credit = f'<p class="syndication-credit">{escape(piece.credit_line)}</p>\n'
    out = [
        f'<article class="syndicated-piece" data-slug="{escape(piece.slug)}" '
        f'data-revision="{escape(piece.revision)}">\n'
    ]
    if piece.credit_placement in ("top", "both"):
        out.append(credit)
    out.append(f"<h1>{escape(piece.headline)}</h1>\n")
    if piece.byline:
        out.append(f'<p class="byline">By {escape(piece.byline)}</p>\n')
    if piece.embargoed_until:
        out.append(
            f'<p class="embargo"><strong>Embargoed until {escape(utc(piece.embargoed_until))}.'
            " Do not publish before then.</strong></p>\n"
        )
    for image in piece.images:
        caption = escape(image.caption)
        credited = (
            f' <span class="image-credit">{escape(image.credit)}</span>' if image.credit else ""
        )
        out.append(
            f'<figure>\n<img src="{escape(image.url)}" alt="{caption}">\n'
            f"<figcaption>{caption}{credited}</figcaption>\n</figure>\n"
        )
    out.append(piece.body_html)
    out.append("\n")
    _sources_and_notes(piece, out)
    canonical = escape(piece.canonical_url)
    out.append(
        '<p class="original">This article was originally published by '
        f'{escape(piece.copyright_holder)} at <a href="{canonical}">{canonical}</a>.</p>\n'
    )
    if piece.credit_placement in ("bottom", "both"):
        out.append(credit)
    if piece.pixel_url:
        # Browsers send only the origin cross-site unless asked; the usage report wants the page.
        out.append(
            f'<img class="syndication-pixel" src="{escape(piece.pixel_url)}" {PIXEL_ATTRIBUTES}>\n'
        )
    out.append("</article>")
    return "".join(out)


def _sources_and_notes(piece: Republication, out: list[str]) -> None:
    """The source credits, related links and correction notes, each only when there are any."""
    if piece.source_credits:
        credits = ", ".join(
            f'<a href="{escape(c.url)}">{escape(c.name)}</a>' if c.url else escape(c.name)
            for c in piece.source_credits
        )
        out.append(f'<p class="source-credits">Sources: {credits}.</p>\n')
    if piece.related:
        out.append('<aside class="related">\n<h2>Related</h2>\n<ul>\n')
        for link in piece.related:
            out.append(f'<li><a href="{escape(link.url)}">{escape(link.title)}</a></li>\n')
        out.append("</ul>\n</aside>\n")
    if piece.corrections:
        out.append('<aside class="corrections">\n<h2>Corrections</h2>\n<ul>\n')
        for note in piece.corrections:
            out.append(
                f'<li><time datetime="{escape(iso(note.at))}">{escape(utc(note.at))}</time>: '
                f"{escape(note.text)}</li>\n"
            )
        out.append("</ul>\n</aside>\n")
