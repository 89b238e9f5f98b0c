"""Article operations: register, change (bumping the revision), correct, withdraw."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy.orm import Session
from sqlmodel import select

from syndication import catalog
from syndication.accountability import outbox
from syndication.articles.models import (
    Article,
    ArticleCreate,
    ArticleUpdate,
)
from syndication.errors import Conflict, Invalid, NotFound, PreconditionFailed
from syndication.licensing.models import License

REQUIRED = ("headline", "body_html", "section", "canonical_url", "copyright_holder",
            "published_at", "license")  # fmt: skip


def etag_of(article: Article) -> str:
    return f'"a{article.id}r{article.revision}"'


def get_article(session: Session, slug: str, for_update: bool = False) -> Article:
    """`for_update` locks the row (PostgreSQL) so read-modify-write cannot lose an update."""
    query = select(Article).where(Article.slug == slug)
    article = session.scalars(query.with_for_update() if for_update else query).first()
    if article is None:
        raise NotFound(f"no piece {slug!r}", field="slug")
    return article


def _check_license(session: Session, code: str) -> None:
    if not session.scalar(select(func.count()).where(License.code == code)):
        raise Invalid(f"no license {code!r}", field="license")


def _check_dates(published_at: datetime, embargo_until: datetime | None) -> None:
    if embargo_until is not None and embargo_until < published_at:
        raise Invalid("the embargo must not end before publication", field="embargo_until")


def create_article(session: Session, data: ArticleCreate, now: datetime | None = None) -> Article:
    _check_license(session, data.license)
    _check_dates(data.published_at, data.embargo_until)
    if session.scalar(select(func.count()).where(Article.slug == data.slug)):
        raise Conflict(f"a piece with slug {data.slug!r} exists", field="slug")
    article = Article(**data.model_dump())
    if now is not None:  # the injected clock, when the caller has one
        article.created_at = article.updated_at = now
    session.add(article)
    catalog.bump(session)
    session.commit()
    return article


def list_articles(
    session: Session,
    *,
    status: str | None = None,
    section: str | None = None,
    license: str | None = None,
    q: str | None = None,
    embargoed_at: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Article], int]:
    query = select(Article)
    if status:
        query = query.where(Article.status == status)
    if section:
        query = query.where(Article.section == section)
    if license:
        query = query.where(Article.license == license)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Article.headline).like(pattern),
                func.lower(Article.slug).like(pattern),
                func.lower(Article.byline).like(pattern),
            )
        )
    if embargoed_at is not None:
        query = query.where(Article.embargo_until > embargoed_at)  # type: ignore[operator]
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Article.published_at.desc(), Article.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def _require_published(article: Article) -> None:
    if article.status == "withdrawn":
        raise Conflict("the piece is withdrawn; it can no longer change", field="status")


def _touch(session: Session, article: Article, now: datetime) -> None:
    article.revision += 1
    article.updated_at = now
    catalog.bump(session)


def update_article(
    session: Session, slug: str, data: ArticleUpdate, if_match: str | None, now: datetime
) -> Article:
    article = get_article(session, slug, for_update=True)
    if if_match is not None and if_match.strip() not in ("*", etag_of(article)):
        raise PreconditionFailed(
            "the piece changed since you read it", field="If-Match", etag=etag_of(article)
        )
    _require_published(article)
    changes = data.model_dump(exclude_unset=True)
    for name in REQUIRED:
        if name in changes and changes[name] is None:
            raise Invalid("must not be null", field=name)
    if "license" in changes:
        _check_license(session, changes["license"])
    _check_dates(
        changes.get("published_at", article.published_at),
        changes.get("embargo_until", article.embargo_until),
    )
    changed = {k: v for k, v in changes.items() if getattr(article, k) != v}
    for name, value in changed.items():
        setattr(article, name, value)
    if changed:
        _touch(session, article, now)
    session.commit()
    return article


def add_correction(session: Session, slug: str, text: str, now: datetime) -> Article:
    article = get_article(session, slug, for_update=True)
    _require_published(article)
    article.corrections = [*article.corrections, {"at": now.isoformat(), "text": text}]
    _touch(session, article, now)
    outbox.on_correction(session, article, text, now)  # same transaction: both or neither
    session.commit()
    return article


def withdraw_article(session: Session, slug: str, reason: str, now: datetime) -> Article:
    article = get_article(session, slug, for_update=True)
    _require_published(article)
    article.status = "withdrawn"
    article.withdrawn_at = now
    article.withdrawal_reason = reason
    _touch(session, article, now)
    outbox.on_withdrawal(session, article, reason, now)  # same transaction: both or neither
    session.commit()
    return article


def delete_article(session: Session, slug: str, now: datetime) -> None:
    """Only a piece no partner could have seen yet may vanish; the rest are withdrawn."""
    article = get_article(session, slug, for_update=True)
    if article.published_at <= now:
        raise Conflict(
            "the piece has been public; withdraw it instead so partners are told",
            field="slug",
        )
    session.delete(article)
    catalog.bump(session)
    session.commit()
