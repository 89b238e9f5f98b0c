"""A feed request's parameters: parsed once, refused with a 400 naming the parameter."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from syndication.errors import DomainError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_SECTION = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class BadParameter(DomainError):
    """A query parameter that does not parse; answered 400 with the parameter's name."""


@dataclass(frozen=True)
class Cursor:
    """A position in the feed's order (published_at desc, id desc) and which way to read."""

    older: bool  # True: the page after this position (next); False: the page before it
    published_at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.published_at - EPOCH) // MICROSECOND
        raw = f"{'o' if self.older else 'n'}:{micros}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            way, micros, ident = raw.split(":")
            if way not in ("o", "n") or len(token) > 64:
                raise ValueError(way)
            moment = EPOCH + int(micros) * MICROSECOND
            return cls(older=way == "o", published_at=moment, id=int(ident))
        except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError, OSError) as exc:
            raise BadParameter("not a cursor this feed gave out", field="cursor") from exc


@dataclass(frozen=True)
class FeedQuery:
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None
    section: str | None = None
    since: datetime | None = None

    @property
    def first_page(self) -> bool:
        return self.cursor is None

    def params(self, cursor: Cursor | None = None, *, keep_cursor: bool = True) -> str:
        """The query string for this feed at `cursor` (the partner's key is never included)."""
        pairs: list[tuple[str, str]] = []
        chosen = cursor if cursor is not None else (self.cursor if keep_cursor else None)
        if chosen is not None:
            pairs.append(("cursor", chosen.encode()))
        if self.limit != DEFAULT_LIMIT:
            pairs.append(("limit", str(self.limit)))
        if self.section is not None:
            pairs.append(("section", self.section))
        if self.since is not None:
            pairs.append(("since", self.since.isoformat().replace("+00:00", "Z")))
        return f"?{urlencode(pairs)}" if pairs else ""


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(f"an integer from 1 to {MAX_LIMIT}", field="limit")
    return int(text)


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise BadParameter("an RFC 3339 timestamp with an offset", field="since") from exc
    if moment.tzinfo is None:
        raise BadParameter("an RFC 3339 timestamp with an offset", field="since")
    return moment.astimezone(UTC)


def _section(text: str) -> str:
    if not text.strip() or len(text) > MAX_SECTION:
        raise BadParameter(f"a section name of 1 to {MAX_SECTION} characters", field="section")
    return text


def parse_query(params: Mapping[str, str]) -> FeedQuery:
    return FeedQuery(
        limit=_limit(params["limit"]) if "limit" in params else DEFAULT_LIMIT,
        cursor=Cursor.decode(params["cursor"]) if "cursor" in params else None,
        section=_section(params["section"]) if "section" in params else None,
        since=_since(params["since"]) if "since" in params else None,
    )
