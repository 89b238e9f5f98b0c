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
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syndication.errors import Unauthenticated

# last_used_at is written at most this often per secret, to keep read paths read-only.
LAST_USED_RESOLUTION_S = 60

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


def bearer_token(authorization: str) -> str | None:
    """The credential of an `Authorization: Bearer <secret>` header value, if that is what it is."""
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def prefix_of(value: str, kind: str) -> str | None:
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != kind or len(parts[1]) != 12 or len(value) > 200:
        return None
    return f"{parts[0]}_{parts[1]}"


def matches(value: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(value), stored_digest)


def verify_holder(
    session: Session,
    secret: str | None,
    *,
    kind: str,
    key_model: Any,
    owner_model: Any,
    owner_fk: Any,
    what: str,
    now: datetime,
) -> Any:
    """The owner of an unrevoked secret of `kind`; 401 (naming `what`) for anything else."""
    prefix = prefix_of(secret or "", kind)
    row = (
        session.execute(
            select(key_model, owner_model)
            .join(owner_model, owner_model.id == owner_fk)
            .where(key_model.prefix == prefix)
        ).first()
        if prefix
        else None
    )
    if row is None or not matches(secret or "", row[0].digest):
        raise Unauthenticated(f"a valid {what} is required")
    key, owner = row
    if key.revoked_at is not None:
        raise Unauthenticated(f"this {what} was revoked")
    if (
        key.last_used_at is None
        or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S
    ):
        # End the read first: on SQLite a write that opens its own transaction waits for the
        # lock, while one that upgrades a read snapshot can fail at once.
        session.commit()
        session.execute(update(key_model).where(key_model.id == key.id).values(last_used_at=now))
        session.commit()
    return owner
