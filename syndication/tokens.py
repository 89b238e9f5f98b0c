"""High-entropy bearer secrets (partner keys, staff tokens): shown once, kept as SHA-256.

A secret reads `<kind>_<id>_<secret>`; `<kind>_<id>` is its public prefix, used to find the
row, and the hash of the whole secret is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class NewSecret:
    value: str
    prefix: str
    digest: str


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret(kind: str) -> NewSecret:
    ident = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    prefix = f"{kind}_{ident}"
    value = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewSecret(value=value, prefix=prefix, digest=digest(value))


def prefix_of(value: str, kind: str) -> str | None:
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != kind or len(parts[1]) != 12 or len(value) > 200:
        return None
    return f"{parts[0]}_{parts[1]}"


def matches(value: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(value), stored_digest)
