"""A database that does not answer (a failover, a partition, a timeout) is a 503 with
Retry-After, which partners' clients retry, not a 500."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors
import pytest
import sqlalchemy.exc
from litestar.testing import TestClient

from syndication.errors import unavailable
from syndication.feeds.runtime import CatalogProbe
from syndication.licensing import service as license_service
from tests.integration.feeds_setup import World, build_world


@pytest.fixture
def world(client: TestClient, staff_headers: dict[str, str]) -> World:
    return build_world(client, staff_headers)


def _assert_unavailable(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {
        "status_code": 503,
        "detail": "the database is unavailable; try again shortly",
    }


def test_a_pull_whose_version_read_fails_is_a_503(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/feeds/atom.xml", headers=world.auth("gazette")).status_code == 200

    async def unanswered(self: CatalogProbe) -> int:  # PostgreSQL's probe
        raise psycopg.OperationalError("the catalog version read took over 2 s")

    def locked(self: CatalogProbe) -> int:  # SQLite's, on the event loop
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(CatalogProbe, "version", unanswered)
    monkeypatch.setattr(CatalogProbe, "read", locked)
    _assert_unavailable(client.get("/feeds/atom.xml", headers=world.auth("gazette")))


def _licenses_fail(monkeypatch: pytest.MonkeyPatch, driver_error: Exception) -> None:
    """The licenses read raises `driver_error` as SQLAlchemy wraps it."""

    def failing(*_args: object, **_kwargs: object) -> None:
        raise sqlalchemy.exc.OperationalError("SELECT", {}, driver_error)

    monkeypatch.setattr(license_service, "list_licenses", failing)


def test_a_schema_error_stays_a_500(
    client: TestClient, staff_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite names a missing table an OperationalError too: a bug, not an outage."""
    _licenses_fail(monkeypatch, sqlite3.OperationalError("no such table: license"))
    answer = client.get("/api/v1/licenses", headers=staff_headers)
    assert answer.status_code == 500 and "retry-after" not in answer.headers


def test_a_staff_read_whose_database_is_gone_is_a_503(
    client: TestClient, staff_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _licenses_fail(monkeypatch, psycopg.OperationalError("connection refused"))
    _assert_unavailable(client.get("/api/v1/licenses", headers=staff_headers))


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (psycopg.errors.lookup("57014")("canceling statement due to statement timeout"), True),
        (psycopg.errors.lookup("55P03")("lock timeout"), True),
        (psycopg.errors.lookup("53300")("too many connections"), True),
        (psycopg.errors.lookup("40001")("could not serialize access"), True),
        (psycopg.errors.lookup("42P01")('relation "catalog_state" does not exist'), False),
        (psycopg.errors.lookup("58030")("could not read block"), False),
        (sqlalchemy.exc.OperationalError("x", {}, sqlite3.OperationalError("database is locked")),
         True),
        (sqlalchemy.exc.OperationalError("x", {}, sqlite3.OperationalError("no such table: t")),
         False),
        (sqlalchemy.exc.TimeoutError("QueuePool limit reached"), True),
    ],
)  # fmt: skip
def test_only_what_retrying_can_fix_is_unavailable(error: Exception, retry: bool) -> None:
    assert unavailable(error) is retry
