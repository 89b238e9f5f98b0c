"""Bulk import: register the pieces of an RSS or Atom feed (file or URL) through the service.

Re-importing is idempotent: a piece whose canonical URL is known is skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import select

from syndication.articles.models import Article, ArticleCreate
from syndication.articles.service import create_article
from syndication.db import session_scope
from syndication.errors import DomainError, Invalid
from syndication.licensing.service import get_license

MAX_FEED_BYTES = 50 * 1024 * 1024


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)


def read_source(source: str) -> bytes:
    if re.match(r"^https?://", source):
        with httpx.Client(timeout=30, follow_redirects=True) as client:
            response = client.get(source)
        if response.status_code != 200:
            raise Invalid(f"fetching the feed answered {response.status_code}", field="source")
        return response.content[:MAX_FEED_BYTES]
    path = Path(source)
    if not path.is_file():
        raise Invalid(f"no such file: {source}", field="source")
    return path.read_bytes()[:MAX_FEED_BYTES]


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100].rstrip("-") or "piece"


def _when(entry: Any) -> datetime:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return datetime.now(UTC)


def _images(entry: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    credits = entry.get("media_credit") or []
    credit = credits[0].get("content", "") if credits else ""
    for media in entry.get("media_content") or []:
        if media.get("url") and media.get("medium", "image") == "image":
            found.append({"url": media["url"], "caption": "", "credit": credit})
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            found.append({"url": link["href"], "caption": "", "credit": credit})
    return found[:50]


def entry_fields(entry: Any, feed: Any, license: str) -> dict[str, Any]:
    """What a feed entry says, in the shape of ArticleCreate (validated by the caller)."""
    link = entry.get("link") or (
        entry.get("id") if str(entry.get("id", "")).startswith("http") else None
    )
    content = entry.get("content") or []
    body = content[0].get("value") if content else entry.get("summary", "")
    tags = [t.get("term") for t in entry.get("tags") or [] if t.get("term")]
    title = entry.get("title") or link or "Untitled"
    return {
        "slug": slugify(title),
        "headline": title,
        "summary": entry.get("summary", "") if content else "",
        "body_html": body or "",
        "byline": entry.get("author", ""),
        "section": slugify(tags[0]) if tags else "general",
        "tags": tags[:50],
        "canonical_url": link,
        "copyright_holder": entry.get("rights") or feed.get("rights") or feed.get("title") or "",
        "published_at": _when(entry),
        "license": license,
        "images": _images(entry),
    }


def _free_slug(session: Any, slug: str) -> str:
    candidate, n = slug, 2
    while session.scalar(select(Article.id).where(Article.slug == candidate)) is not None:
        candidate, n = f"{slug[:100]}-{n}", n + 1
    return candidate


def _import_entry(
    engine: Engine, entry: Any, feed: Any, license: str, report: ImportReport
) -> None:
    fields = entry_fields(entry, feed, license)
    label = fields["canonical_url"] or fields["headline"]
    try:
        with session_scope(engine) as session:
            known = session.scalar(
                select(Article.id).where(Article.canonical_url == fields["canonical_url"])
            )
            if known is not None:
                report.skipped += 1
                return
            fields["slug"] = _free_slug(session, fields["slug"])
            create_article(session, ArticleCreate.model_validate(fields))
        report.created += 1
    except ValidationError as exc:
        report.failed += 1
        first = exc.errors()[0]
        report.problems.append(f"{label}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
    except DomainError as exc:
        report.failed += 1
        report.problems.append(f"{label}: {exc.field or ''} {exc.detail}")


def import_feed(engine: Engine, source: str, license: str, progress: bool = True) -> ImportReport:
    with session_scope(engine, write=False) as session:
        get_license(session, license)
    parsed = feedparser.parse(read_source(source))
    if parsed.bozo and not parsed.entries:
        raise Invalid(f"not a readable feed: {parsed.get('bozo_exception')}", field="source")
    report = ImportReport()
    if not progress:
        for entry in parsed.entries:
            _import_entry(engine, entry, parsed.feed, license, report)
        return report
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task("importing", total=len(parsed.entries))
        for entry in parsed.entries:
            _import_entry(engine, entry, parsed.feed, license, report)
            bar.advance(task)
    return report
