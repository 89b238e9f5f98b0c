"""Fixtures: a fresh migrated database per test (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from syndication import migrate
from syndication.app import create_app
from syndication.db import session_scope
from syndication.settings import Settings
from syndication.staff.accounts import create_staff, issue_token
from syndication.tables import metadata

POSTGRES_URL = os.environ.get("SYNDICATION_TEST_POSTGRES_URL")
logging.getLogger("httpx").setLevel(logging.WARNING)
BASE_URL = "http://testserver.local"
STAFF_EMAIL = "staff@example.org"
STAFF_PASSWORD = "correct horse battery"

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="SYNDICATION_TEST_POSTGRES_URL is not set (see .ci/run)"
        ),
    ),
]


@dataclass
class Clock:
    """A controllable clock handed to the app: tests move time, the app reads it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(Settings(database_url=f"sqlite:///{path}"))
    return path


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new, empty database of its own on the test server (`prefix` and a random suffix),
    dropped when the block ends, so no run depends on what an earlier one left there."""
    assert POSTGRES_URL
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with scratch_postgres("syndication_test") as url:
        migrate.upgrade(Settings(database_url=url))
        yield url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO catalog_state (id, version, changed_at) VALUES (1, 1, now())")
        )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, base_url=BASE_URL, secret_key="test-secret-key")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
def engine(app: Litestar):  # type: ignore[no-untyped-def]
    return app.state.engine


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def staff_headers(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        create_staff(session, STAFF_EMAIL, STAFF_PASSWORD)
        token = issue_token(session, STAFF_EMAIL)
    return {"Authorization": f"Bearer {token}"}
