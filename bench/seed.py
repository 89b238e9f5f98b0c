"""A benchmark catalog, bulk-inserted with SQLAlchemy Core (not the API): licenses, partners
and pieces. Every database seeded with the same `now` has the same newest page at any size."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError

from syndication import migrate
from syndication.articles.models import Article
from syndication.db import make_engine, session_scope
from syndication.licensing.models import License
from syndication.partners.models import Partner, PartnerLicense
from syndication.partners.service import issue_key
from syndication.settings import Settings

WORDS = ["council", "budget", "vote", "members", "city", "health", "school", "road",
         "water", "court", "report", "housing", "river", "bridge", "transit", "clinic"]  # fmt: skip
SECTIONS = ["politics", "sport", "health", "city", "world"]
BENCH_PARTNER = "partner-0"  # holds two of the ten licenses: a fifth of the catalog
BATCH = 5_000
PARTNERS, LICENSES = 1_000, 10


def body(rng: random.Random, size: int) -> str:
    """About `size` bytes of varied paragraphs (a repeated one would flatter gzip)."""
    paragraphs, total = [], 0
    while total < size:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60)))
        paragraphs.append(f"<p>{words.capitalize()} <strong>{rng.randint(2, 999)}</strong>.</p>")
        total += len(paragraphs[-1])
    return "".join(paragraphs)


def bench_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, base_url="http://127.0.0.1", secret_key="bench")


def seed_catalog(database_url: str, pieces: int, now: datetime) -> str:
    """Migrate the empty database at `database_url` and seed it: LICENSES licenses, PARTNERS
    partners and `pieces` pieces. Answers BENCH_PARTNER's key."""
    migrate.upgrade(bench_settings(database_url))
    engine = make_engine(bench_settings(database_url))
    try:
        key = seed_parties(engine, PARTNERS, LICENSES, now)
        grow(engine, pieces, LICENSES, now)
    finally:
        engine.dispose()
    return key


def seed_parties(engine: Engine, partners: int, licenses: int, now: datetime) -> str:
    """`licenses` licenses and `partners` partners holding one to three each; answers the key
    of BENCH_PARTNER."""
    rng = random.Random(11)
    with engine.begin() as conn:
        conn.execute(insert(License), [
            {"code": f"lic-{n}", "name": f"License {n}", "url": f"https://news.example.org/l/{n}",
             "summary": "Terms.", "terms": "Republish unaltered. " * 20,
             "credit_line": "Content created by {{ holder }} for {{ partner_name }}. "
                            "Contact {{ contact_email }}.",
             "contact_email": "licensing@example.org", "min_audience": 0,
             "allows_modification": False, "allows_commercial": False,
             "requires_canonical": True, "requires_pixel": n % 2 == 0,
             "window_days": 365 if n == 9 else None, "credit_placement": "both",
             "created_at": now, "updated_at": now}
            for n in range(licenses)
        ])  # fmt: skip
        conn.execute(insert(Partner), [
            {"slug": f"partner-{n}", "name": f"Partner {n}", "audience": 50_000 + n,
             "sees_embargoed": n % 50 == 0, "active": True, "created_at": now, "updated_at": now}
            for n in range(partners)
        ])  # fmt: skip
        ids = dict(conn.execute(select(Partner.slug, Partner.id)).all())  # type: ignore[call-overload]
        grants = []
        for n in range(partners):
            held = {0, 1} if n == 0 else set(rng.sample(range(licenses), rng.randint(1, 3)))
            grants += [{"partner_id": ids[f"partner-{n}"], "license": f"lic-{c}"} for c in held]
        conn.execute(insert(PartnerLicense), grants)
    with session_scope(engine) as session:
        return issue_key(session, BENCH_PARTNER).key


def grow(engine: Engine, pieces: int, licenses: int, now: datetime, body_bytes: int = 5_000) -> int:
    """Add pieces until the catalog holds `pieces`; each new one is older than the last, so the
    newest page stays the same as the catalog grows. Answers how many were added."""
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Article)).scalar_one()
    rng = random.Random(have)
    bodies = [body(rng, body_bytes) for _ in range(200)]
    for start in range(have, pieces, BATCH):
        rows = [_piece(n, licenses, bodies[n % len(bodies)], now)
                for n in range(start, min(start + BATCH, pieces))]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(Article), rows)
    settle(engine)
    return max(0, pieces - have)


def settle(engine: Engine) -> None:
    """Leave a bulk-loaded database as a long-running one is, before anything is measured:
    statistics gathered, and on PostgreSQL the new rows vacuumed (hint bits and visibility
    map set, so the first reads do not write) and a checkpoint taken, so the checkpointer is
    not still writing out the load (half a gigabyte here) during the runs that follow; on
    SQLite the WAL checkpointed and truncated."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        try:
            conn.execute(text("CHECKPOINT"))
        except ProgrammingError:  # needs a superuser or pg_checkpoint (PostgreSQL 15)
            print("bench: no CHECKPOINT for this role; the checkpointer may still be writing")


def _piece(n: int, licenses: int, body_html: str, now: datetime) -> dict:
    withdrawn = n % 1000 == 7
    return {
        "slug": f"piece-{n}", "headline": f"Headline {n}", "summary": "Summary.",
        "body_html": body_html, "byline": "Ana Example", "section": SECTIONS[n % len(SECTIONS)],
        "tags": ["a", "b"], "canonical_url": f"https://news.example.org/{n}",
        "copyright_holder": "The Example News Foundation",
        "published_at": now - timedelta(minutes=n),
        "embargo_until": now + timedelta(days=1) if n % 997 == 5 else None,
        "license": f"lic-{n % licenses}",
        "source_credits": [{"name": "Wire", "url": "https://wire.example/"}],
        "related": [{"title": "Earlier", "url": f"https://news.example.org/{n + 1}"}],
        "images": [{"url": f"https://news.example.org/{n}.jpg", "caption": "Caption",
                    "credit": "Photo: A", "syndicate": True}],
        "corrections": [], "created_at": now, "updated_at": now,
        "status": "withdrawn" if withdrawn else "published",
        "withdrawn_at": now - timedelta(days=n % 40) if withdrawn else None,
        "withdrawal_reason": "Legal." if withdrawn else None,
    }  # fmt: skip


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
