"""Caching rules for partner answers: what a shared cache (CDN) may keep, and for whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndication.bundles.controllers import cache_headers as bundle_headers
from syndication.bundles.service import BundleAnswer
from syndication.feeds.cache import rendered
from syndication.feeds.conditional import cache_headers

T = datetime(2026, 11, 26, 12, 0, 0, 500000, tzinfo=UTC)
ENTRY = rendered("application/atom+xml", b"<feed/>", T, T + timedelta(seconds=20))


def test_key_in_header_may_be_shared_but_revalidates_every_time() -> None:
    headers = dict(cache_headers(ENTRY, T, key_in_url=False, key_in_header=True))
    assert headers[b"cache-control"] == b"public, no-cache"
    assert headers[b"vary"] == b"Authorization, Accept-Encoding"


def test_key_in_url_is_private_and_short_lived() -> None:
    headers = dict(cache_headers(ENTRY, T, key_in_url=True, key_in_header=False))
    assert headers[b"cache-control"] == b"private, max-age=20"  # the next change is in 20 s
    assert headers[b"vary"] == b"Accept-Encoding"


def test_a_key_in_both_places_keeps_the_answer_from_the_url_alone() -> None:
    """The header's key answers; a client's cache must not serve that answer to the same URL
    (with another partner's ?key=) without the header."""
    headers = dict(cache_headers(ENTRY, T, key_in_url=True, key_in_header=True))
    assert headers[b"cache-control"] == b"private, max-age=20"
    assert headers[b"vary"] == b"Authorization, Accept-Encoding"
    both = bundle_headers(_answer(), key_in_url=True, key_in_header=True)
    assert both["Cache-Control"] == "private, no-cache" and both["Vary"] == "Authorization"


def test_feed_validators_are_encoded_once_per_coding() -> None:
    identity, gzipped = (dict(e) for e in ENTRY.encoded)
    assert identity[b"etag"] == ENTRY.etag.encode() and b"content-encoding" not in identity
    assert gzipped[b"etag"] == ENTRY.gzip_etag.encode()
    assert gzipped[b"content-encoding"] == b"gzip"
    assert identity[b"last-modified"] == b"Thu, 26 Nov 2026 12:00:00 GMT"


def _answer() -> BundleAnswer:
    return BundleAnswer("zip", "application/zip", '"abc"', "a-r1.zip", b"PK", None, None, T)


def test_bundle_headers_follow_where_the_key_was_sent() -> None:
    shared = bundle_headers(_answer(), key_in_url=False, key_in_header=True)
    assert shared == {
        "ETag": '"abc"',
        "Last-Modified": "Thu, 26 Nov 2026 12:00:00 GMT",
        "Cache-Control": "public, no-cache",
        "Vary": "Authorization",
    }
    private = bundle_headers(_answer(), key_in_url=True, key_in_header=False)
    assert private["Cache-Control"] == "private, no-cache" and "Vary" not in private
