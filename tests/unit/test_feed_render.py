"""The writers are pure: a FeedView in, bytes out, checked by XPath with plain values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from feedgen.feed import FeedGenerator
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree

from syndication.feeds.render import WRITERS, render_atom, render_rss
from syndication.feeds.view import FeedItem, FeedView, PageLinks, Tombstone, scrubbed
from syndication.fields import XML_INVALID, is_xml_clean
from syndication.republish.render import render_fragment
from syndication.republish.view import CorrectionNote, Credit, Link, Picture, Republication

T = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NS = {"a": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0",
      "media": "http://search.yahoo.com/mrss/"}  # fmt: skip


def piece(**over: object) -> Republication:
    values: dict = dict(
        uri="tag:news.example.org,2026-11-26:piece:1", slug="p", revision=3,
        headline="Headline", byline="Ana", summary="Sum", body_html="<p>Body</p>",
        section="politics", tags=("a",), published_at=T, updated_at=T,
        embargoed_until=None, canonical_url="https://news.example.org/p",
        copyright_holder="Example News", source_credits=(Credit("Politico", None),),
        related=(Link("Rel", "https://news.example.org/rel"),),
        images=(Picture("https://news.example.org/i.png", "Cap", "Cred"),),
        corrections=(), credit_line="Credit line.", credit_placement="bottom",
        license_code="free", license_name="Free", license_url="https://news.example.org/lic",
        requires_canonical=True, pixel_url=None, partner_slug="g", partner_name="Gazette",
    )  # fmt: skip
    values.update(over)
    return Republication(**values)


def view(*pieces: Republication, tombstones: tuple[Tombstone, ...] = ()) -> FeedView:
    items = tuple(FeedItem(p, render_fragment(p), p.uri, p.updated_at) for p in pieces)
    return FeedView(
        title="Feed", subtitle="Sub", feed_id="tag:news.example.org,2026-01-01:feed:1",
        home_url="https://syn.example.org/", partner_name="Gazette", rights="Rights",
        updated=T, items=items,
        tombstones=tombstones,
        links=PageLinks(self="https://syn.example.org/feeds/atom.xml",
                        first="https://syn.example.org/feeds/atom.xml",
                        next="https://syn.example.org/feeds/atom.xml?cursor=x"),
    )  # fmt: skip


def test_feedgen_traps_are_real() -> None:
    # Why atomlinks exists: feedgen refuses rel="license" and drops rel from entry links.
    fg = FeedGenerator()
    fg.id("x"), fg.title("x"), fg.updated(T)
    fe = fg.add_entry()
    with pytest.raises(ValueError):
        fe.link(href="https://l.example/", rel="license")
    fe.id("e"), fe.title("e"), fe.updated(T), fe.content("c")
    fe.link(href="https://r.example/", rel="related")
    doc = etree.fromstring(fg.atom_str())
    assert doc.xpath("//a:entry/a:link/@rel", namespaces=NS) == []


def test_atom_entry_links_keep_rel_and_type() -> None:
    doc = etree.fromstring(render_atom(view(piece())))
    links = {(link.get("rel"), link.get("href"), link.get("type"))
             for link in doc.xpath("//a:entry/a:link", namespaces=NS)}  # fmt: skip
    assert links == {
        ("alternate", "https://news.example.org/p", "text/html"),
        ("license", "https://news.example.org/lic", "text/html"),
        ("related", "https://news.example.org/rel", "text/html"),
    }
    assert doc.xpath("/a:feed/a:link[@rel='next']/@href", namespaces=NS)


def test_rss_channel_link_is_the_site_whatever_came_last() -> None:
    doc = etree.fromstring(render_rss(view(piece())))
    assert doc.xpath("/rss/channel/link/text()") == ["https://syn.example.org/"]
    assert doc.xpath("/rss/channel/a:link[@rel='next']/@href", namespaces=NS)
    assert len(doc.xpath("/rss/channel/a:link[@rel='self']", namespaces=NS)) == 1


def test_tombstones_in_atom_only_and_before_entries() -> None:
    stone = Tombstone(ref="tag:x,2026-01-01:piece:9", when=T, reason="Legal", headline="Gone",
                      canonical_url="https://news.example.org/gone", license_code="free",
                      license_name="Free", license_url="https://news.example.org/lic")  # fmt: skip
    atom = etree.fromstring(render_atom(view(piece(), tombstones=(stone,))))
    names = [etree.QName(c).localname for c in atom]
    assert names.index("deleted-entry") < names.index("entry")
    (when,) = atom.xpath("//at:deleted-entry/@when", namespaces=NS)
    assert when == "2026-11-26T12:00:00Z"
    assert b"deleted-entry" not in render_rss(view(piece(), tombstones=(stone,)))
    feed = json.loads(WRITERS["json"][1](view(tombstones=(stone,))))
    (item,) = feed["items"]
    assert set(item) >= {"id", "content_text", "_rights"} and "content_html" not in item
    assert item["_rights"]["status"] == "withdrawn" and item["_rights"]["reason"] == "Legal"


def test_embargoed_piece_is_marked_in_every_format() -> None:
    marked = piece(embargoed_until=datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
    for fmt, (_, write) in WRITERS.items():
        body = write(view(marked))
        assert b"EMBARGOED until 27 Nov 2026 06:00 UTC" in body, fmt


def test_scrubbed_strips_xml_invalid_characters_everywhere() -> None:
    dirty = piece(headline="A\x00B\x0bC", related=(Link("R\x1f", "https://r.example/"),))
    clean = scrubbed(dirty)
    assert clean.headline == "ABC" and clean.related[0].title == "R"
    etree.fromstring(render_atom(view(clean)))


def test_scrubbed_answers_a_clean_piece_itself() -> None:
    clean = piece(body_html="<p>Caf\u00e9 \u2019quoted\u2019 \U0001f600</p>")
    assert scrubbed(clean) is clean


@given(st.text(max_size=60) | st.text(st.characters(max_codepoint=127), max_size=60))
@example("caf\u00e9\ud800")
@example("x\ufffe")
@example("\u2019\uffff")
@example("\u2019\x1f")
@example("tab\tnew\nline\r")
def test_the_fast_clean_check_agrees_with_the_pattern(text: str) -> None:
    assert is_xml_clean(text) == (XML_INVALID.search(text) is None)


@pytest.mark.parametrize(("fmt", "media"), [("atom", "application/atom+xml"),
                                            ("rss", "application/rss+xml"),
                                            ("json", "application/feed+json")])  # fmt: skip
def test_writers_are_chosen_from_an_explicit_dict(fmt: str, media: str) -> None:
    media_type, write = WRITERS[fmt]
    assert media_type.startswith(media)
    assert write(view(piece())) == write(view(piece()))  # pure and deterministic


def test_a_tag_repeating_the_section_is_one_category() -> None:
    from types import SimpleNamespace

    from syndication.feeds.view import categories

    piece = SimpleNamespace(section="politics", tags=("politics", "local", "local"))
    assert categories(piece) == ["politics", "local"]  # type: ignore[arg-type]


def test_scrubbed_reaches_every_string_of_a_piece() -> None:
    from syndication.feeds.view import _gatherer, _strings

    full = piece(
        tags=("t1", "t2"), pixel_url="https://h/px/t.gif",
        source_credits=(Credit("Wire", "https://w.example/"), Credit("Desk", None)),
        corrections=(CorrectionNote(T, "Fixed."),),
    )  # fmt: skip
    generic: list[str] = []
    _strings(full, generic)
    gather = _gatherer(Republication)
    assert gather is not None
    assert sorted(s for s in gather(full) if s) == sorted(generic)  # None answers ""
    for dirty in (
        piece(tags=("a\x01",)),
        piece(pixel_url="https://h/\x02"),
        piece(source_credits=(Credit("W", "https://w.example/\x03"),)),
        piece(images=(Picture("https://i.example/i.png", "Cap", "Cred\x04"),)),
        piece(corrections=(CorrectionNote(T, "F\x05"),)),
        piece(credit_line="C\x06", license_name="L\x07", partner_name="P\x08"),
    ):
        assert scrubbed(dirty) != dirty
        assert is_xml_clean(render_atom(view(scrubbed(dirty))).decode())


def test_scrubbed_copes_with_values_off_their_declared_types() -> None:
    odd = piece(byline=None, tags=None)
    assert scrubbed(odd) is odd
    assert scrubbed(piece(byline=None, headline="A\x00")).headline == "A"


def test_scrubbed_walks_what_it_cannot_compile() -> None:
    from syndication.feeds.view import _gatherer

    @dataclass(frozen=True)
    class Odd:
        names: list[str]
        piece: Republication

    assert _gatherer(Odd) is None
    odd = Odd(["a\x00"], piece(headline="B\x0b"))
    assert scrubbed(odd).piece.headline == "B"
