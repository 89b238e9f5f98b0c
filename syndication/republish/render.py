"""The republishable HTML fragment, one Jinja2 template shared by feeds and bundles."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import markupsafe
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import escape

from syndication.republish.view import Republication

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Every template here is escaped. A plain True, not select_autoescape(default=True, ...)
        # (which answers True for every name): that is a call per render, ~1% of a fragment.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = lambda d: d.strftime("%d %B %Y, %H:%M UTC").lstrip("0")
    env.filters["iso"] = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    return env


@lru_cache(maxsize=1)
def _fragment() -> Template:
    # Looked up once: get_template stats the file on every call (a feed renders 50 fragments).
    template = environment().get_template("fragments/republish.html")
    # The same globals as one plain dict instead of Jinja's ChainMap over the environment's:
    # each render copies them into its context, and a ChainMap iterates in Python (~4 us).
    template.globals = dict(template.globals)
    # Each `{{ value }}` calls the name `escape` of the template's compiled module; there it
    # now answers the escaped text as a plain str, as `escape_text` says.
    template.root_render_func.__globals__["escape"] = escape_text
    return template


# What `escape` runs on a str (C, or MarkupSafe's Python fallback where the C part is absent).
_escape_inner = markupsafe._escape_inner


def escape_text(value: Any) -> str:
    """What Jinja's autoescape writes for `value`, the same characters as `escape(value)`,
    without wrapping a plain str in a Markup: the fragment only joins what it yields into one
    str, and the wrapping was ~4% of a feed's cold render (20 values a piece, two Python calls
    each). Anything else (a Markup from `|safe`, a number) goes through `escape` itself."""
    if type(value) is str:
        return _escape_inner(value)  # type: ignore[no-any-return]
    return escape(value)


def render_fragment(view: Republication) -> str:
    return _fragment().render(piece=view)
