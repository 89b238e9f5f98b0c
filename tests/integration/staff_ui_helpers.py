"""Helpers for driving the staff web UI over HTTP: CSRF tokens from pages, logging in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from syndication.db import session_scope
from syndication.staff import accounts
from syndication.staff.accounts import create_staff

EMAIL = "desk@example.org"
PASSWORD = "a long enough password"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id at test-sized cost: these tests log in a few hundred times."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("timing only"))


def make_staff(engine: Any) -> None:
    with session_scope(engine) as session:
        create_staff(session, EMAIL, PASSWORD)


def csrf_token(client: TestClient, path: str) -> str:
    response = client.get(path)
    match = _TOKEN.search(response.text)
    assert match, f"no CSRF field on {path}: {response.status_code} {response.text[:300]}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, Any], page: str | None = None):  # type: ignore[no-untyped-def]
    """POST a form the way a browser does: with the CSRF token of the page that showed it."""
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def log_in(client: TestClient, email: str = EMAIL, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return post_form(client, "/staff/login", {"email": email, "password": password})
