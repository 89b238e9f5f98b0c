"""The compliance check: for every page where a pixel showed a piece, fetch the page, judge it
against what the partner was given, store the result (the rows per page are its history)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication.accountability import ledger
from syndication.accountability.assess import Expected, assess
from syndication.accountability.fetch import Fetched, fetch_page
from syndication.accountability.models import (
    CheckPublic,
    ComplianceCheck,
    PageHistory,
    ScheduledJob,
)
from syndication.articles.models import Article
from syndication.db import open_session, session_scope
from syndication.errors import NotFound
from syndication.licensing.entitlement import decide
from syndication.licensing.models import License
from syndication.partners.models import Partner
from syndication.partners.service import granted_codes
from syndication.republish.access import view_for
from syndication.settings import Settings
from syndication.usage.models import PartnerPage

JOB = "compliance"
log = logging.getLogger(__name__)
Fetcher = Callable[[str, bool], Fetched]


@dataclass(frozen=True)
class Target:
    partner_id: int
    partner_slug: str
    article_id: int
    article_slug: str
    page: str
    revision: int
    expected: Expected


def _slug_filter(session: Session, model: type, slug: str | None, field: str) -> int | None:
    if slug is None:
        return None
    found = session.scalars(select(model.id).where(model.slug == slug)).first()  # type: ignore[attr-defined]
    if found is None:
        raise NotFound(f"no {field} {slug!r}", field=field)
    return int(found)


def _expected(
    session: Session, settings: Settings, partner: Partner, article: Article, license: License,
    now: datetime,
) -> Expected:  # fmt: skip
    # What the partner was given: the same view feeds and bundles render.
    assert partner.id is not None
    decision = decide(partner, granted_codes(session, partner.id), article, license, now)
    view = view_for(settings, partner, article, license, decision)
    return Expected(
        credit_line=view.credit_line,
        canonical_url=view.canonical_url,
        requires_canonical=view.requires_canonical,
        pixel_url=view.pixel_url,
        body_html=view.body_html,
        allows_modification=license.allows_modification,
    )


def targets(
    session: Session, settings: Settings, now: datetime,
    piece: str | None = None, partner: str | None = None, since: datetime | None = None,
) -> list[Target]:  # fmt: skip
    """The partner pages to check; with `since`, only those not checked at or after it."""
    article_id = _slug_filter(session, Article, piece, "piece")
    partner_id = _slug_filter(session, Partner, partner, "partner")
    # The pages pixel hits showed, one row each (not the hits, one per page view).
    query = select(PartnerPage.partner_id, PartnerPage.article_id, PartnerPage.page)
    if since is not None:  # on ix_compliance_page, per page
        checked = select(ComplianceCheck.id).where(
            col(ComplianceCheck.partner_id) == PartnerPage.partner_id,
            col(ComplianceCheck.article_id) == PartnerPage.article_id,
            col(ComplianceCheck.page) == PartnerPage.page,
            col(ComplianceCheck.checked_at) >= since,
        )
        query = query.where(~exists(checked))
    if article_id is not None:
        query = query.where(PartnerPage.article_id == article_id)
    if partner_id is not None:
        query = query.where(PartnerPage.partner_id == partner_id)
    found = []
    for pid, aid, page in session.execute(query).all():
        p = session.get(Partner, pid)
        row = session.execute(
            select(Article, License)
            .join(License, col(License.code) == Article.license)
            .where(Article.id == aid, Article.status == "published")
        ).first()
        if p is None or row is None or not str(page).startswith(("http://", "https://")):
            continue  # withdrawn pieces are the takedowns' business
        a, lic = row
        held = ledger.latest_held(session, pid, aid)
        expected = _expected(session, settings, p, a, lic, now)
        revision = held.revision if held else a.revision
        found.append(Target(pid, p.slug, aid, a.slug, str(page), revision, expected))
    return sorted(found, key=lambda t: (t.partner_slug, t.article_slug, t.page))


def _row(target: Target, fetched: Fetched, now: datetime) -> ComplianceCheck:
    base: dict[str, Any] = {
        "partner_id": target.partner_id,
        "article_id": target.article_id,
        "page": target.page,
        "checked_at": now,
        "revision": target.revision,
        "http_status": fetched.status,
    }
    if not fetched.ok:
        error = fetched.error or f"HTTP {fetched.status}"
        return ComplianceCheck(**base, verdict="unreachable", error=error)
    verdict = assess(fetched.html, target.expected)
    return ComplianceCheck(
        **base,
        verdict=verdict.verdict,
        credit_line=verdict.credit_line,
        canonical_link=verdict.canonical_link,
        rel_canonical=verdict.rel_canonical,
        pixel=verdict.pixel,
        similarity=verdict.similarity,
        altered=verdict.altered,
    )


def check(
    engine: Engine, settings: Settings, now: datetime,
    piece: str | None = None, partner: str | None = None, fetcher: Fetcher | None = None,
) -> list[tuple[Target, ComplianceCheck]]:  # fmt: skip
    """Reads, then fetches with no transaction open, writing each result as soon as it is
    known: a worker stopped (or killed) in the middle of a run keeps the pages it checked."""
    return _checked(engine, settings, now, piece, partner, fetcher, None)[0]


def _checked(
    engine: Engine, settings: Settings, now: datetime, piece: str | None, partner: str | None,
    fetcher: Fetcher | None, stop: threading.Event | None, since: datetime | None = None,
) -> tuple[list[tuple[Target, ComplianceCheck]], bool]:  # fmt: skip
    """`check`'s results, and whether it checked every page: once `stop` is set (the worker
    shuts down) it fetches no further page. Pages checked at or after `since` are left out."""
    fetch = fetcher or (lambda url, allow: fetch_page(url, allow))
    with open_session(engine, write=False) as session:
        found = targets(session, settings, now, piece, partner, since)
    results: list[tuple[Target, ComplianceCheck]] = []
    for target in found:
        if stop is not None and stop.is_set():
            log.info("compliance run stopped after %d of %d pages", len(results), len(found))
            return results, False
        row = _row(target, fetch(target.page, settings.compliance_allow_private), now)
        with session_scope(engine) as session:
            session.add(row)
        results.append((target, row))
    return results, True


def failures_of(row: ComplianceCheck) -> list[str]:
    if row.verdict == "unreachable":
        return [row.error or "unreachable"]
    checks = ("credit_line", "canonical_link", "rel_canonical", "pixel")
    failed = [name for name in checks if getattr(row, name) is False]
    if row.altered:
        failed.append(f"altered (similarity {row.similarity:.2f})")
    return failed


def _claim_run(engine: Engine, settings: Settings, now: datetime) -> datetime | None:
    """This worker's claim on the run that is due, if it won it: when the run came due."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with session_scope(engine) as session:
        session.execute(
            insert(ScheduledJob).values(name=JOB, next_run_at=now).on_conflict_do_nothing()
        )
        due = session.scalars(
            select(ScheduledJob.next_run_at).where(col(ScheduledJob.name) == JOB)
        ).one()
        if due > now:
            return None
        won = session.execute(  # only if no other worker moved it since it was read
            update(ScheduledJob)
            .where(col(ScheduledJob.name) == JOB, col(ScheduledJob.next_run_at) == due)
            .values(next_run_at=_next_run(settings, now))
        )
        return due if won.rowcount == 1 else None  # type: ignore[attr-defined]


def _next_run(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(seconds=settings.compliance_interval_s)


def run_if_due(
    engine: Engine, settings: Settings, now: datetime,
    stop: threading.Event | None = None, fetcher: Fetcher | None = None,
) -> int:  # fmt: skip
    """The scheduled check: one worker wins each interval, and checks the pages not checked
    since the run came due. A run cut short by `stop` gives its interval back, as due when it
    was (unless another worker has claimed the next one meanwhile): the next poll of any worker
    (this one restarted, or another) checks the pages not reached yet, however many times the
    run is cut short, and does not wait an interval."""
    if settings.compliance_interval_s <= 0:
        return 0
    due = _claim_run(engine, settings, now)
    if due is None:
        return 0
    try:
        done, whole = _checked(engine, settings, now, None, None, fetcher, stop, since=due)
    except BaseException:  # a write that failed, an interrupt: the rest waits for no interval
        with contextlib.suppress(Exception):  # the database may be what failed
            _give_back(engine, settings, now, due)
        raise
    if not whole:
        _give_back(engine, settings, now, due)
    return len(done)


def _give_back(engine: Engine, settings: Settings, now: datetime, due: datetime) -> None:
    """The run claimed at `now` is due again as it was, unless another worker has claimed the
    next one meanwhile."""
    with session_scope(engine) as session:
        session.execute(
            update(ScheduledJob)
            .where(
                col(ScheduledJob.name) == JOB,
                col(ScheduledJob.next_run_at) == _next_run(settings, now),  # still ours
            )
            .values(next_run_at=due)
        )


def _public(row: ComplianceCheck) -> CheckPublic:
    return CheckPublic.model_validate(row, from_attributes=True)


def history(
    session: Session, piece: str | None = None, partner: str | None = None
) -> list[PageHistory]:
    article_id = _slug_filter(session, Article, piece, "piece")
    partner_id = _slug_filter(session, Partner, partner, "partner")
    query = (
        select(ComplianceCheck, Partner.slug, Article.slug)
        .join(Partner, col(Partner.id) == ComplianceCheck.partner_id)
        .join(Article, col(Article.id) == ComplianceCheck.article_id)
        .order_by(col(ComplianceCheck.checked_at).desc(), col(ComplianceCheck.id).desc())
    )
    if article_id is not None:
        query = query.where(ComplianceCheck.article_id == article_id)
    if partner_id is not None:
        query = query.where(ComplianceCheck.partner_id == partner_id)
    pages: dict[tuple[str, str, str], list[CheckPublic]] = {}
    for row, p, a in session.execute(query):
        pages.setdefault((p, a, row.page), []).append(_public(row))
    return [
        PageHistory(partner=p, article=a, page=page, latest=checks[0], history=checks)
        for (p, a, page), checks in sorted(pages.items())
    ]
