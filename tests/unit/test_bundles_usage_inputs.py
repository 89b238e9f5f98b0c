"""Pure input handling around bundles and usage: names, validators, Referers, timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from syndication.bundles.service import matches, split_name
from syndication.errors import NotEntitled
from syndication.republish.pixel import make_token
from syndication.usage.pixel import MAX_PAGE, clean_page, read_hit
from syndication.usage.reports import BadParameter, parse_time

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_split_name() -> None:
    assert split_name("council-budget.zip") == ("council-budget", "zip")
    assert split_name("a.b.json") == ("a.b", "json")
    for bad in ("council-budget", "council-budget.pdf", "x.ZIP", ".zip."):
        with pytest.raises(NotEntitled):
            split_name(bad)


def test_if_none_match() -> None:
    assert matches('"abc"', '"abc"') and matches('W/"abc"', '"abc"')
    assert matches('"x", "abc"', '"abc"') and matches("*", '"abc"')
    assert not matches(None, '"abc"') and not matches('"abd"', '"abc"') and not matches("", '"a"')


@pytest.mark.parametrize(
    ("referer", "page"),
    [
        (None, None),
        ("", None),
        ("https://g.example.com/a?b=1#c", "https://g.example.com/a?b=1"),
        ("https://user:pw@g.example.com:8443/a", "https://g.example.com:8443/a"),
        ("http://g.example.com", "http://g.example.com/"),
        ("android-app://com.example", None),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("http://[::1", None),
    ],
)
def test_clean_page(referer: str | None, page: str | None) -> None:
    assert clean_page(referer) == page


def test_clean_page_caps_length() -> None:
    long_query = "https://g.example.com/a?" + "q" * 3000
    assert clean_page(long_query) == "https://g.example.com/a"
    long_path = clean_page("https://g.example.com/" + "p" * 3000)
    assert long_path is not None and len(long_path) == MAX_PAGE


def test_clean_page_is_ascii_within_its_cap() -> None:
    """A header's bytes beyond ASCII (read as latin-1) are percent-encoded as they came, and
    the cap holds in bytes: PostgreSQL keys partner pages on the page."""
    utf8 = "https://g.example.com/caf\u00e9?q=\u00fc".encode().decode("latin-1")
    assert clean_page(utf8) == "https://g.example.com/caf%C3%A9?q=%C3%BC"
    assert clean_page("https://b\u00fccher.example/x") == "https://xn--bcher-kva.example/x"
    for n in (1500, 1501, 1502):  # the cap falls at each place of a "%C3%A9"
        wide = clean_page("https://g.example.com/" + "\u00e9" * n)
        assert wide is not None and wide.isascii() and len(wide) <= MAX_PAGE
        assert re.fullmatch(r"https://g\.example\.com/(%E9)+", wide), wide[-8:]


def test_read_hit() -> None:
    token = make_token("s", 4, 9)
    hit = read_hit("s", f"{token}.gif", "https://g.example.com/x#y", NOW)
    assert hit is not None and (hit.partner_id, hit.article_id) == (4, 9)
    assert hit.page == "https://g.example.com/x" and hit.at == NOW
    assert read_hit("s", token, None, NOW) is None
    assert read_hit("other", f"{token}.gif", None, NOW) is None


def test_parse_time() -> None:
    assert parse_time("since", None) is None and parse_time("since", "") is None
    assert parse_time("since", "2026-11-26T12:00:00Z") == NOW
    plus_one = parse_time("until", "2026-11-26T13:00:00+01:00")
    assert plus_one == NOW and plus_one.utcoffset() == timedelta(0)  # echoed in UTC
    assert parse_time("since", "2026-11-26t12:00:00z") == NOW
    assert parse_time("since", "2026-11-26T12:00:00.5-05:00") == datetime(
        2026, 11, 26, 12, 0, 0, 500000, tzinfo=timezone(timedelta(hours=-5))
    )
    assert parse_time("since", "2026-11-26 12:00:00Z") == NOW
    bad_values = ("2026-11-26", "2026-11-26T12:00:00", "tomorrow", "1764158400",
                  "20261126T120000Z", "2026-11-26T12:00:00+0000", "2026-13-26T12:00:00Z",
                  " 2026-11-26T12:00:00Z")  # fmt: skip
    for bad in bad_values:
        with pytest.raises(BadParameter) as refused:
            parse_time("since", bad)
        assert refused.value.field == "since" and refused.value.status_code == 400
