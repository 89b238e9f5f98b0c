"""The republishable HTML fragment, one Jinja2 template shared by feeds and bundles."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

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
    return template


def render_fragment(view: Republication) -> str:
    return _fragment().render(piece=view)
