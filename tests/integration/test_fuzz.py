"""Schemathesis against our own OpenAPI document: no 5xx, every answer matches its schema.

Positive-data acceptance is not checked: our validators (slugs, URLs, emails, credit-line
templates) are stricter than the JSON Schema can say, and refusing with a 4xx is right.
"""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from syndication.db import session_scope
from syndication.staff.accounts import create_staff, issue_token
from tests.factories import article_body, create, license_body, partner_body, partner_key

EXAMPLES = int(os.environ.get("SYNDICATION_FUZZ_EXAMPLES", "15"))


@pytest.fixture
def credentials(app: Litestar, engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        create_staff(session, "fuzz@example.org", "long enough pw")
        token = issue_token(session, "fuzz@example.org")
    staff = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        create(client, staff, "/api/v1/licenses", license_body())
        create(client, staff, "/api/v1/partners", partner_body())
        create(client, staff, "/api/v1/articles", article_body())
        key = partner_key(client, staff, "gazette")
    return {"staff": token, "partner": key}


@pytest.fixture
def api_schema(app: Litestar, credentials: dict[str, str]):  # type: ignore[no-untyped-def]
    app.state.auth_throttle.per_address.limit = 10**9  # the fuzzer is one address guessing a lot
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app)


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _fuzzer(operation, mode: GenerationMode, secret: str, ran: list[int]):  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def exercise(case) -> None:  # type: ignore[no-untyped-def]
        ran.append(1)
        case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

    return exercise


def test_no_server_error_and_schema_conformance(api_schema, credentials: dict) -> None:  # type: ignore[no-untyped-def]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    ran: list[int] = []
    for operation, mode in itertools.product(operations, GenerationMode):
        staff = operation.path.startswith("/api/v1")
        secret = credentials["staff"] if staff else credentials["partner"]
        try:
            _fuzzer(operation, mode, secret, ran)()
        except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
            assert mode is GenerationMode.NEGATIVE
    print(f"\nfuzz: {len(ran)} cases over {len(operations)} operations")
