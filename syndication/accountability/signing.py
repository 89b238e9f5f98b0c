"""The push-notice signature: HMAC-SHA256 over "<unix timestamp>." + body (see docs/partners.md)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def headers(secret: str, timestamp: int, body: bytes, event: str, delivery: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Syndication-Timestamp": str(timestamp),
        "Syndication-Signature": signature(secret, timestamp, body),
        "Syndication-Event": event,
        "Syndication-Delivery": str(delivery),
    }


def verify(secret: str, timestamp: str, body: bytes, header: str, now: int) -> bool:
    """What a receiver does: a fresh timestamp and a matching v1 signature (constant time)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > TOLERANCE_S:
        return False
    expected = signature(secret, sent, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))
