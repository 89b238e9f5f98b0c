"""Conditional GET, content coding and query parsing: pure functions, plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndication.feeds.cache import LruCache, rendered
from syndication.feeds.conditional import accepts_gzip, held_coding, max_age, not_modified
from syndication.feeds.query import BadParameter, Cursor, parse_query

T = datetime(2026, 11, 26, 12, 0, 30, 123456, tzinfo=UTC)
ENTRY = rendered("application/atom+xml", b"<feed/>", T, T + timedelta(seconds=20))


def test_if_none_match_wins_over_if_modified_since() -> None:
    assert not_modified(ENTRY.etag, None, ENTRY)
    assert not_modified(f'W/{ENTRY.etag}, "x"', None, ENTRY)
    assert not_modified(ENTRY.gzip_etag, None, ENTRY)
    assert not_modified("*", None, ENTRY)
    assert not not_modified('"x"', "Thu, 26 Nov 2026 12:00:30 GMT", ENTRY)


def test_a_304_confirms_the_coding_whose_etag_the_client_sent() -> None:
    identity, gzip = ENTRY.etag, ENTRY.gzip_etag
    assert held_coding(identity, ENTRY, gzipped=True) is False  # kept identity, asks gzip now
    assert held_coding(gzip, ENTRY, gzipped=False) is True
    assert held_coding(f"W/{gzip}", ENTRY, gzipped=True) is True
    assert held_coding(f"{identity}, {gzip}", ENTRY, gzipped=True) is True  # the asked one
    assert held_coding("*", ENTRY, gzipped=False) is False
    assert held_coding(None, ENTRY, gzipped=True) is True  # If-Modified-Since: as asked


def test_if_modified_since_to_the_second() -> None:
    assert not_modified(None, "Thu, 26 Nov 2026 12:00:30 GMT", ENTRY)
    assert not not_modified(None, "Thu, 26 Nov 2026 12:00:29 GMT", ENTRY)
    assert not not_modified(None, "garbage", ENTRY)
    assert not not_modified(None, None, ENTRY)


def test_accepts_gzip() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.5")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip(None)


def test_max_age_never_outlives_the_next_change() -> None:
    assert max_age(ENTRY, T) == 20
    assert max_age(ENTRY, T + timedelta(hours=1)) == 0
    forever = rendered("x/y", b"", T, None)
    assert max_age(forever, T) == 60


def test_etag_is_a_digest_of_the_body() -> None:
    assert rendered("x/y", b"a", T, None).etag == rendered("x/z", b"a", T, None).etag
    assert rendered("x/y", b"a", T, None).etag != rendered("x/y", b"b", T, None).etag


def test_cursor_round_trip_to_the_microsecond() -> None:
    cursor = Cursor(older=True, published_at=T, id=42)
    assert Cursor.decode(cursor.encode()) == cursor
    query = parse_query({"cursor": cursor.encode(), "limit": "7", "section": "sport"})
    assert query.cursor == cursor and query.limit == 7 and query.section == "sport"
    assert "key" not in query.params()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "-1"}, "limit"), ({"limit": "1e3"}, "limit"), ({"cursor": "bm86MTox"}, "cursor"),
     ({"since": "2026-11-26"}, "since"), ({"section": "x" * 101}, "section")],
)  # fmt: skip
def test_bad_parameters_name_themselves(params: dict[str, str], field: str) -> None:
    with pytest.raises(BadParameter) as caught:
        parse_query(params)
    assert caught.value.field == field and caught.value.status_code == 400


def test_lru_forgets_the_least_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_lru_bounded_by_weight_keeps_the_newest() -> None:
    cache: LruCache[str, bytes] = LruCache(max_entries=100, max_weight=10, weigh=len)
    cache.put("a", b"12345")
    cache.put("b", b"1234")
    cache.put("b", b"12345")  # replacing counts the new weight only
    assert cache.weight == 10 and len(cache) == 2
    cache.put("c", b"123")  # over the weight: "a", the least recently used, goes
    assert cache.get("a") is None and cache.get("b") is not None and cache.weight == 8
