"""A database stamped at a revision this release does not have, as a newer release leaves it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

from syndication.db import session_scope

NEWER = "0099_from_a_newer_release"


def revision(engine: Engine) -> str:
    with session_scope(engine, write=False) as session:
        return str(session.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


@contextmanager
def newer_schema(engine: Engine) -> Iterator[None]:
    """The database stamped at NEWER for the block, then at its own revision again: the
    PostgreSQL test database is shared by the whole session, and its truncation between
    tests leaves alembic_version alone."""
    own = revision(engine)
    with session_scope(engine) as session:
        session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    try:
        yield
    finally:
        with session_scope(engine) as session:
            session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": own})
