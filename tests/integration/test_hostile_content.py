"""Hostile content in every text field, through the API and the staff form, into every output.

Each value is either refused with a 4xx naming the field, or stored (cleaned of what XML 1.0
cannot carry) and then emitted as well-formed, inert RSS, Atom, JSON Feed, bundle, API and
staff HTML.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import pytest
from jsonschema import FormatChecker, validators
from litestar.testing import TestClient
from lxml import etree
from lxml import html as lxml_html

from tests.factories import article_body, create, license_body, partner_body, partner_key
from tests.integration.staff_ui_helpers import (
    cheap_hashing,  # noqa: F401 (autouse fixture)
    log_in,
    make_staff,
    post_form,
)
from tests.ninjs import ninjs_errors

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
ATOM = {"a": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0"}
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
# 24 levels of table, tbody, tr, td: 96 elements deep, under the limit of 100 (see refusals).
DEEP_TABLES = "<table><tr><td>" * 24 + "deep" + "</td></tr></table>" * 24


@dataclass(frozen=True)
class Case:
    text: str
    body_html: str | None = None  # None: the text itself, inside a paragraph


CASES = {
    "cdata_end": Case("Costs ]]> rose <![CDATA[ again ]]> &"),
    "control_chars": Case("Tab\there\x00nul\x01\x08\x0b\x0c\x1b\x1f\x7f end"),
    "xml_nonchars": Case("x\ufffey\uffffz"),
    "rtl_combining": Case("\u202eNews\u202c مرحبا שלום Z\u0351\u0300\u0301a\u0334\u0335l\u0336go"),
    "emoji": Case("Budget \U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1e6 ✊🏿"),
    "html_entities": Case("Tom &amp; Jerry &lt;b&gt; &nbsp; &#0; &#x1F; &eacute; &bogus;"),
    "svg_onload": Case('<svg onload="alert(1)"><script>alert(2)</script></svg>'),
    "javascript_link": Case('<a href="javascript:alert(1)">go</a> <img src=x onerror=alert(3)>'),
    "doctype_entity": Case('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///">]>&e;'),
    "separators": Case("a\u2028b\u2029c\ufeffd\u200be\u0085f"),
    "template_syntax_as_text": Case("{{ 7*7 }} {% if 1 %}x{% endif %}"),
    "long_line": Case("ω" * 500),
    "nested_tables_24": Case("Deep tables", DEEP_TABLES),
    "body_near_limit": Case("Big body", "<p>" + "word " * 380_000 + "</p>"),
    "cdata_in_body": Case("CDATA body", "<p>]]></p><![CDATA[<script>alert(1)</script>]]>"),
}


def xml_chars(value: str) -> str:
    """XML 1.0's Char production, written out independently of the app's cleaner."""

    def allowed(c: str) -> bool:
        point = ord(c)
        return (
            c in "\t\n\r" or 0x20 <= point <= 0xD7FF or 0xE000 <= point <= 0xFFFD or point > 0xFFFF
        )

    return "".join(c for c in value if allowed(c))


def line(value: str, limit: int = 500) -> str:
    return xml_chars(value)[:limit].strip()


def assert_inert(markup: str, where: str) -> None:
    """No script, event handler, svg or javascript: URL survives into HTML a browser runs."""
    tree = lxml_html.fromstring(markup)
    scripts = [s for s in tree.iter("script") if s.get("src") is None and "alert" in (s.text or "")]
    assert not scripts, where
    assert not tree.xpath("//svg | //iframe | //object | //embed | //math"), where
    handlers = [a for a in tree.xpath("//@*") if a.attrname.lower().startswith("on")]
    assert not handlers, (where, handlers[:3])
    urls = tree.xpath("//@href | //@src | //@action | //@formaction | //@xlink:href",
                      namespaces={"xlink": "http://www.w3.org/1999/xlink"})  # fmt: skip
    assert not [u for u in urls if u.strip().lower().startswith(("javascript:", "data:"))], where


class Desk:
    """A staff desk and one partner, driving a hostile value into every field it can reach."""

    def __init__(self, client: TestClient, staff: dict[str, str]) -> None:
        self.client, self.staff = client, staff

    def publish(self, case: Case) -> tuple[str, dict[str, str]]:
        text = case.text
        credit = "Content by {{ holder }} for {{ partner_name }}. " + text.replace("{", "(")
        create(self.client, self.staff, "/api/v1/licenses",
               license_body(name=line(text, 200) or "x", credit_line=credit))  # fmt: skip
        create(self.client, self.staff, "/api/v1/partners", partner_body(name=text[:200]))
        key = {"Authorization": f"Bearer {partner_key(self.client, self.staff, 'gazette')}"}
        body = article_body(
            "hostile",
            headline=text, summary=text, byline=text, section=text[:100], tags=[text[:100]],
            copyright_holder=text, body_html=case.body_html or f"<p>{text}</p>",
            source_credits=[{"name": text, "url": "https://example.com/src"}],
            related=[{"title": text, "url": "https://news.example.org/2026/related"}],
            images=[{"url": "https://news.example.org/i.jpg", "caption": text, "credit": text}],
        )  # fmt: skip
        create(self.client, self.staff, "/api/v1/articles", body)
        answer = self.client.post(
            "/api/v1/articles/hostile/corrections", json={"text": text}, headers=self.staff
        )
        assert answer.status_code == 201, answer.text
        return line(text), key

    def feeds(self, key: dict[str, str]) -> dict[str, bytes]:
        out = {}
        for name in ("rss.xml", "atom.xml", "feed.json"):
            answer = self.client.get(f"/feeds/{name}", headers=key)
            assert answer.status_code == 200, (name, answer.text[:300])
            out[name] = answer.content
        return out


@pytest.fixture
def desk(client: TestClient, staff_headers: dict[str, str], engine: Any) -> Desk:
    make_staff(engine)
    log_in(client)
    return Desk(client, staff_headers)


def check_feeds(feeds: dict[str, bytes], headline: str) -> list[str]:
    """Every feed parses strictly and carries the headline exactly; returns the entry HTML."""
    atom = etree.fromstring(feeds["atom.xml"])
    assert etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng"))).validate(atom)
    rss = etree.fromstring(feeds["rss.xml"])
    for raw in (feeds["atom.xml"], feeds["rss.xml"]):
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, parsed.get("bozo_exception")
    feed = json.loads(feeds["feed.json"])
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text())
    validator = validators.validator_for(schema)(schema, format_checker=FormatChecker())
    assert not list(validator.iter_errors(feed))
    htmls = [i["content_html"] for i in feed["items"]]
    htmls += [c.text for c in atom.iterfind("a:entry/a:content", ATOM)]
    htmls += [c.text for c in rss.iter(CONTENT)]
    titles = atom.xpath("a:entry/a:title/text()", namespaces=ATOM)
    assert titles == rss.xpath("channel/item/title/text()") == [headline]
    assert [i["title"] for i in feed["items"]] == [headline]
    return htmls


def check_bundle(client: TestClient, key: dict[str, str], headline: str) -> list[str]:
    answer = client.get("/bundles/hostile.zip", headers=key)
    assert answer.status_code == 200, answer.text[:300]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.testzip() is None
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]
    ninjs = json.loads(files["article.json"])
    assert not ninjs_errors(ninjs)
    assert ninjs["headlines"][0]["value"] == headline
    alone = client.get("/bundles/hostile.html", headers=key)
    assert alone.status_code == 200 and alone.text == files["article.html"].decode()
    assert json.loads(client.get("/bundles/hostile.json", headers=key).content) == ninjs
    files["LICENSE.txt"].decode("utf-8")  # raises unless it is UTF-8 text
    return [files["article.html"].decode(), files["head.html"].decode()]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_value_is_stored_clean_and_every_output_stays_well_formed(
    desk: Desk, case: Case
) -> None:
    client = desk.client
    headline, key = desk.publish(case)
    piece = client.get("/api/v1/articles/hostile", headers=desk.staff).json()
    assert piece["headline"] == piece["byline"] == headline
    assert piece["source_credits"][0]["name"] == piece["related"][0]["title"] == headline
    assert piece["images"][0]["caption"] == piece["images"][0]["credit"] == headline
    assert piece["corrections"][0]["text"] == xml_chars(case.text)
    assert_inert(piece["body_html"], "stored body")

    htmls = check_feeds(desk.feeds(key), headline)
    htmls += check_bundle(client, key, headline)
    for page in ("/staff/pieces/hostile", "/staff/pieces/hostile?partner=gazette"):
        answer = client.get(page)
        assert answer.status_code == 200, answer.text[:300]
        htmls.append(answer.text)
    for index, markup in enumerate(htmls):
        assert_inert(markup, f"output {index}")

    answer = client.post(
        "/api/v1/articles/hostile/withdraw", json={"reason": case.text}, headers=desk.staff
    )
    assert answer.status_code == 200, answer.text
    feeds = desk.feeds(key)
    atom = etree.fromstring(feeds["atom.xml"])
    comments = atom.xpath("at:deleted-entry/at:comment/text()", namespaces=ATOM)
    assert comments == [f"Withdrawn: {xml_chars(case.text)}"]
    assert not feedparser.parse(feeds["rss.xml"]).bozo
    stone = json.loads(feeds["feed.json"])["items"][0]["_rights"]
    assert stone["status"] == "withdrawn" and stone["reason"] == xml_chars(case.text)
    gone = client.get("/bundles/hostile.zip", headers=key)
    assert gone.status_code == 410 and xml_chars(case.text) in gone.json()["detail"]


STAFF_FORM_CASES = ["svg_onload", "control_chars", "rtl_combining", "cdata_end"]


@pytest.mark.parametrize("name", STAFF_FORM_CASES)
def test_hostile_value_through_the_staff_form(desk: Desk, name: str) -> None:
    text = CASES[name].text
    client = desk.client
    create(client, desk.staff, "/api/v1/licenses", license_body())
    create(client, desk.staff, "/api/v1/partners", partner_body())
    key = {"Authorization": f"Bearer {partner_key(client, desk.staff, 'gazette')}"}
    form = {
        "slug": "hostile", "headline": text, "byline": text, "summary": text,
        "body_html": f"<p>{text}</p>", "section": text[:100], "tags": text[:100].replace(",", ""),
        "canonical_url": "https://news.example.org/2026/hostile",
        "copyright_holder": text, "license": "free-eligible", "published_at": "2026-11-26T08:00",
        "source_credits-0-name": text, "source_credits-0-url": "https://example.com/",
        "images-0-url": "https://news.example.org/a.jpg", "images-0-caption": text,
        "images-0-credit": text, "images-0-syndicate": "on", "_action": "save",
    }  # fmt: skip
    answer = post_form(client, "/staff/pieces/new", form)
    assert answer.status_code == 303, answer.text[:500]
    headline = line(text)
    assert client.get("/api/v1/articles/hostile", headers=desk.staff).json()["headline"] == (
        headline
    )
    htmls = check_feeds(desk.feeds(key), headline)
    htmls += check_bundle(client, key, headline)
    htmls.append(client.get("/staff/pieces/hostile?partner=gazette").text)
    for index, markup in enumerate(htmls):
        assert_inert(markup, f"output {index}")
