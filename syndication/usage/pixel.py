"""The tracking pixel: read the token now, decide and record after the answer has gone.

The answer never depends on the token, so a bad token learns nothing and costs no query.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy.engine import Engine
from sqlmodel import select

from syndication.articles.models import Article
from syndication.db import session_scope
from syndication.licensing.entitlement import Verdict, decide
from syndication.licensing.models import License
from syndication.partners.models import Partner
from syndication.partners.service import granted_codes
from syndication.republish.pixel import read_token
from syndication.usage.service import Usage, record

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
MAX_PAGE = 2000
# A page that showed the piece while the partner held it still counts once the window has
# closed (no new republication) or the piece was withdrawn (staff want to know it is still up).
COUNTED = frozenset({Verdict.ENTITLED, Verdict.EXPIRED, Verdict.WITHDRAWN})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PixelHit:
    partner_id: int
    article_id: int
    page: str | None
    at: datetime


def clean_page(referer: str | None) -> str | None:
    """The page that showed the pixel: an http(s) URL without credentials or fragment."""
    if not referer:
        return None
    try:
        parts = urlsplit(referer.strip())
        host = parts.hostname
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    if not host.isascii():  # browsers send ASCII hosts; a raw one is put in IDNA
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    # ASCII only, so MAX_PAGE characters are MAX_PAGE bytes (PostgreSQL keys `partner_page` on
    # the page, and a key entry cannot pass ~2700 bytes): other characters percent-encoded,
    # from the header's own bytes (read as latin-1) where it has them.
    path, query = _ascii(parts.path or "/"), _ascii(parts.query)
    page = urlunsplit((parts.scheme, host + port, path, query, ""))
    if len(page) > MAX_PAGE:
        page = urlunsplit((parts.scheme, host + port, path, "", ""))[:MAX_PAGE]
        page = re.sub(r"%[0-9A-Fa-f]?$", "", page)  # not half a percent-escape
    return page


def _ascii(part: str) -> str:
    if part.isascii():
        return part
    try:
        raw = part.encode("latin-1")
    except UnicodeEncodeError:
        raw = part.encode()
    return quote(raw, safe="".join(map(chr, range(0x21, 0x7F))))


def read_hit(secret: str, name: str, referer: str | None, now: datetime) -> PixelHit | None:
    token = name.removesuffix(".gif")
    ids = read_token(secret, token) if name.endswith(".gif") else None
    if ids is None:
        return None
    return PixelHit(ids[0], ids[1], clean_page(referer), now)


def counted(engine: Engine, hit: PixelHit) -> bool:
    with session_scope(engine, write=False) as session:
        partner = session.get(Partner, hit.partner_id)
        row = session.execute(
            select(Article, License)
            .join(License, License.code == Article.license)  # type: ignore[arg-type]
            .where(Article.id == hit.article_id)
        ).first()
        if partner is None or row is None:
            return False
        article, license = row
        granted = granted_codes(session, hit.partner_id)
    return decide(partner, granted, article, license, hit.at).verdict in COUNTED


def record_hit(engine: Engine, hit: PixelHit) -> None:
    """Runs after the GIF is sent; a failure is logged, never raised at the reader."""
    try:
        if counted(engine, hit):
            record(
                engine,
                [Usage("pixel_hit", hit.partner_id, hit.at, hit.article_id, "gif", hit.page)],
            )
    except Exception:
        log.exception("could not record a pixel hit for partner %s", hit.partner_id)
