"""The shared republishable fragment and the pixel token, with plain values."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html
from markupsafe import Markup, escape

from syndication.republish.pixel import make_token, read_token
from syndication.republish.render import environment, escape_text, render_fragment
from syndication.republish.view import build_view

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _article(**over: object) -> NS:
    base = dict(
        id=7, created_at=NOW, slug="s", revision=2, headline="Budget <passes>", byline="Ana",
        summary="", section="x",
        body_html="<p>Body</p>", tags=["t"], published_at=NOW, updated_at=NOW,
        canonical_url="https://news.example.org/a", copyright_holder="Example News",
        source_credits=[{"name": "Politico", "url": "https://p.example.com"}, {"name": "Records"}],
        related=[{"title": "Earlier", "url": "https://news.example.org/r"}],
        images=[
            {"url": "https://news.example.org/i.jpg", "caption": "Cap", "credit": "Photo: A",
             "syndicate": True},
            {"url": "https://news.example.org/no.jpg", "caption": "No", "credit": "Agency",
             "syndicate": False},
        ],
        corrections=[{"at": "2026-11-26T10:00:00+00:00", "text": "Fixed the date."}],
    )  # fmt: skip
    return NS(**{**base, **over})


def _license(**over: object) -> NS:
    base = dict(code="free", name="Free", url="https://news.example.org/l", contact_email="l@x.org",
                credit_line="By {{ holder }} for {{ partner_name }}.", credit_placement="bottom",
                requires_canonical=True, requires_pixel=True)  # fmt: skip
    return NS(**{**base, **over})


PARTNER = NS(slug="gazette", name="The Gazette")


def _render(article: NS, license: NS, **kw: object) -> str:
    view = build_view(
        article,
        license,
        PARTNER,
        authority="news.example.org",
        embargoed_until=kw.get("embargo"),
        pixel_url="https://h/px/t.gif",
    )
    return render_fragment(view)


def test_fragment_carries_everything_required() -> None:
    out = _render(_article(), _license())
    tree = lxml_html.fragment_fromstring(out)
    assert tree.xpath("string(//h1)") == "Budget <passes>"
    assert "By Ana" in out and "<p>Body</p>" in out
    assert tree.xpath("//p[@class='source-credits']/a/@href") == ["https://p.example.com"]
    assert tree.xpath("//figure/img/@src") == ["https://news.example.org/i.jpg"]
    assert "Photo: A" in out and "no.jpg" not in out and "Agency" not in out
    assert tree.xpath("//aside[@class='related']//a/@href") == ["https://news.example.org/r"]
    assert tree.xpath("//p[@class='original']/a/@href") == ["https://news.example.org/a"]
    assert "Fixed the date." in out
    assert tree.xpath("//img[@class='syndication-pixel']/@src") == ["https://h/px/t.gif"]
    credits = tree.xpath("//p[@class='syndication-credit']")
    assert [c.text for c in credits] == ["By Example News for The Gazette."]
    assert tree.xpath("//p[@class='syndication-credit']")[0].getprevious().tag == "p"


@pytest.mark.parametrize(("placement", "count"), [("top", 1), ("bottom", 1), ("both", 2)])
def test_credit_placement(placement: str, count: int) -> None:
    tree = lxml_html.fragment_fromstring(_render(_article(), _license(credit_placement=placement)))
    credits = tree.xpath("//p[@class='syndication-credit']")
    assert len(credits) == count
    children = list(tree)
    if placement in ("top", "both"):
        assert children[0].get("class") == "syndication-credit"
    if placement in ("bottom", "both"):
        assert children[-2].get("class") == "syndication-credit"  # the pixel is last


def test_stable_tag_uri() -> None:
    view = build_view(
        _article(), _license(), PARTNER, authority="h.org", embargoed_until=None, pixel_url=None
    )
    assert view.uri == "tag:h.org,2026-11-26:piece:7"


def test_no_pixel_unless_required_and_embargo_marked() -> None:
    out = _render(_article(), _license(requires_pixel=False), embargo=NOW)
    assert "syndication-pixel" not in out
    assert "Embargoed until 26 November 2026, 12:00 UTC" in out


def test_pixel_token_round_trip_and_forgery() -> None:
    token = make_token("secret", 3, 5)
    assert read_token("secret", token) == (3, 5)
    assert read_token("other", token) is None
    assert read_token("secret", make_token("secret", 3, 6)) == (3, 6)
    for bad in ("", "x", token[:-2], token + "A", "!" * 43, "A" * 500):
        assert read_token("secret", bad) is None


@given(st.text(max_size=80))
def test_any_string_is_refused_or_genuine(token: str) -> None:
    assert read_token("secret", token) in (None,)


@given(st.one_of(st.text(), st.integers(), st.builds(Markup, st.text())))
def test_escape_text_writes_what_escape_writes(value: object) -> None:
    assert escape_text(value) == str(escape(value))


def test_fragment_is_what_stock_jinja_autoescape_renders() -> None:
    """The fragment's own `escape` (escape_text) changes no character of the output."""
    tricky = "<b>&amp;\"quotes\" 'apostrophes' & ampersands</b>"
    article = _article(
        headline=tricky, byline=tricky, slug="a&b", copyright_holder=tricky,
        canonical_url="https://news.example.org/a?x=1&y='2'",
        source_credits=[{"name": tricky, "url": "https://p.example.com/?a=1&b=2"}],
        related=[{"title": tricky, "url": "https://news.example.org/r?\"q\""}],
        images=[{"url": "https://news.example.org/i.jpg?a&b", "caption": tricky,
                 "credit": tricky, "syndicate": True}],
        corrections=[{"at": "2026-11-26T10:00:00+00:00", "text": tricky}],
    )  # fmt: skip
    license = _license(credit_line="{{ holder }} & {{ partner_name }}", credit_placement="both")
    view = build_view(
        article, license, PARTNER, authority="news.example.org", embargoed_until=NOW,
        pixel_url="https://h/px/t.gif?a&b",
    )  # fmt: skip
    # No cache: the template compiled anew, in a module of its own, with Jinja's own escape.
    stock = environment().overlay(cache_size=0).get_template("fragments/republish.html")
    assert stock.root_render_func.__globals__["escape"] is escape
    expected = stock.render(piece=view)
    assert render_fragment(view) == expected
    assert "&lt;b&gt;&amp;amp;&#34;quotes&#34; &#39;apostrophes&#39;" in expected
