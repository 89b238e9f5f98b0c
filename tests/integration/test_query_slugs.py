"""A slug in a query string that cannot be a slug is refused as bad input, on every backend
(PostgreSQL refuses a NUL byte in text, which surfaced as a 500; schemathesis found it)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


@pytest.mark.parametrize("param", ["piece", "partner"])
def test_compliance_filters_refuse_what_no_slug_can_be(
    client: TestClient, staff_headers: dict[str, str], param: str
) -> None:
    bad = client.get(f"/api/v1/compliance?{param}=%C3%85%00", headers=staff_headers)
    assert bad.status_code == 400, bad.text
    assert param in bad.text
    fine = client.get(f"/api/v1/compliance?{param}=council-budget", headers=staff_headers)
    assert fine.status_code in (200, 404), fine.text
