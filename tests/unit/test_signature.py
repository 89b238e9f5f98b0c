"""The push-notice signature scheme, with plain values."""

from __future__ import annotations

import hashlib
import hmac

from syndication.accountability import signing

SECRET = "whsec_test"
BODY = b'{"id":1,"kind":"correction"}'


def test_known_vector() -> None:
    expected = hmac.new(b"whsec_test", b"1764158400." + BODY, hashlib.sha256).hexdigest()
    assert signing.signature(SECRET, 1764158400, BODY) == f"v1={expected}"


def test_headers_carry_everything_a_receiver_needs() -> None:
    headers = signing.headers(SECRET, 1764158400, BODY, "withdrawal", 42)
    assert headers["Syndication-Timestamp"] == "1764158400"
    assert headers["Syndication-Event"] == "withdrawal"
    assert headers["Syndication-Delivery"] == "42"
    assert headers["Syndication-Signature"] == signing.signature(SECRET, 1764158400, BODY)


def test_verify_accepts_fresh_and_refuses_stale_tampered_or_foreign() -> None:
    header = signing.signature(SECRET, 1000, BODY)
    assert signing.verify(SECRET, "1000", BODY, header, now=1000 + 299)
    assert not signing.verify(SECRET, "1000", BODY, header, now=1000 + 301)
    assert not signing.verify(SECRET, "1000", BODY + b" ", header, now=1000)
    assert not signing.verify("whsec_other", "1000", BODY, header, now=1000)
    assert not signing.verify(SECRET, "1001", BODY, header, now=1000)
    assert not signing.verify(SECRET, "soon", BODY, header, now=1000)


def test_secrets_differ() -> None:
    assert signing.new_secret() != signing.new_secret()


def test_the_example_in_the_partner_guide_verifies_our_notices() -> None:
    import re
    import time
    from pathlib import Path

    guide = Path(__file__).resolve().parents[2] / "docs" / "partners.md"
    [example] = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.S)
    assert len(example.strip().splitlines()) <= 10
    namespace: dict = {}
    exec(example, namespace)
    now = int(time.time())
    headers = signing.headers(SECRET, now, BODY, "correction", 7)
    assert namespace["verify"](SECRET, headers, BODY)
    assert not namespace["verify"](SECRET, headers, BODY + b"x")
    stale = signing.headers(SECRET, now - 301, BODY, "correction", 7)
    assert not namespace["verify"](SECRET, stale, BODY)
