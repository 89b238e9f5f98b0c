"""Hostile input that must be refused with a 4xx naming the field, never a 5xx: undecodable
bodies, lone surrogates, control-only and over-long values, javascript: URLs, NULs in URLs,
out-of-range row ids, and bodies over the configured limit (413)."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from tests.factories import article_body, create, license_body, partner_body, partner_key
from tests.integration.staff_ui_helpers import log_in

REFUSALS = {
    "invalid_utf8": (b'"headline": "\xff\xfe bad"', "body"),
    "lone_high_surrogate": (b'"headline": "x \\ud800 y"', "body"),
    "lone_low_surrogate": (b'"headline": "x \\udc00 y"', "body"),
    "only_control_chars": (b'"headline": "\\u0000\\u0001 "', "headline"),
    # libxml2 readers silently drop what nests past 255 elements: refused, not flattened
    "nested_tables_500": (
        (
            '"body_html": "' + "<table><tr><td>" * 500 + "x" + "</td></tr></table>" * 500 + '"'
        ).encode(),
        "body_html",
    ),
    "body_over_2m_chars": (('"body_html": "' + "x" * 2_100_000 + '"').encode(), "body_html"),
    "javascript_canonical": (b'"canonical_url": "javascript:alert(1)"', "canonical_url"),
    "javascript_credit_url": (
        b'"source_credits": [{"name": "a", "url": "javascript:alert(1)"}]',
        "source_credits.0.url",
    ),
    "data_image_url": (b'"images": [{"url": "data:image/svg+xml,<svg onload=x>"}]', "images.0.url"),
    "tag_too_long": (('"tags": ["' + "t" * 101 + '"]').encode(), "tags.0"),
}


@pytest.mark.parametrize(("fragment", "field"), REFUSALS.values(), ids=REFUSALS.keys())
def test_hostile_value_is_refused_naming_the_field(
    client: TestClient, staff_headers: dict[str, str], fragment: bytes, field: str
) -> None:
    create(client, staff_headers, "/api/v1/licenses", license_body())
    replaced = fragment.split(b'"')[1].decode()
    rest = {k: v for k, v in article_body("refused").items() if k != replaced}
    raw = b"{" + fragment + b", " + json.dumps(rest).encode()[1:]
    answer = client.post(
        "/api/v1/articles", content=raw,
        headers={**staff_headers, "content-type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 400, answer.text[:300]
    assert field in [e["field"] for e in answer.json()["errors"]], answer.text[:300]
    assert client.get("/api/v1/articles/refused", headers=staff_headers).status_code == 404


OTHER_REFUSALS = {
    "partner_name_over_200": ("/api/v1/partners", partner_body(name="ω" * 201), "name"),
    "license_name_over_200": ("/api/v1/licenses", license_body("l2", name="ω" * 201), "name"),
    "partner_email_nul": (
        "/api/v1/partners",
        partner_body(contact_email="desk\x00@example.com"),
        "contact_email",
    ),
    "license_email_control": (
        "/api/v1/licenses",
        license_body("l2", contact_email="a\x1b@example.com"),
        "contact_email",
    ),
    "section_filter_only_nul": ("/api/v1/partners", partner_body(sections=["\x00"]), "sections.0"),
}


@pytest.mark.parametrize(("path", "body", "field"), OTHER_REFUSALS.values(), ids=OTHER_REFUSALS)
def test_hostile_license_and_partner_fields_are_refused_naming_the_field(
    client: TestClient, staff_headers: dict[str, str], path: str, body: dict, field: str
) -> None:
    create(client, staff_headers, "/api/v1/licenses", license_body())
    answer = client.post(path, json=body, headers=staff_headers)
    assert answer.status_code == 400, answer.text[:300]
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    kept = 1 if path.endswith("licenses") else 0  # the license made above; nothing else
    assert len(client.get(path, headers=staff_headers).json()) == kept


def test_staff_login_with_a_nul_in_the_address_is_refused_not_failed(client: TestClient) -> None:
    answer = log_in(client, "desk\x00@example.org", "whatever password")
    assert 400 <= answer.status_code < 500, answer.text[:300]


def test_body_over_the_configured_limit_is_413(
    client: TestClient, staff_headers: dict[str, str]
) -> None:
    body = article_body("huge", body_html="<p>" + "x" * (5 * 1024 * 1024) + "</p>")
    answer = client.post("/api/v1/articles", json=body, headers=staff_headers)
    assert answer.status_code == 413


@pytest.mark.parametrize("path", [
    "/feeds/atom.xml?section=%FF%FE", "/feeds/feed.json?since=%ED%A0%80",
    "/bundles/%FF%00.zip", "/px/%ED%A0%80.gif", "/api/v1/articles?q=%00%FF",
])  # fmt: skip
def test_undecodable_bytes_in_urls_never_fail_the_server(
    client: TestClient, staff_headers: dict[str, str], path: str
) -> None:
    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/partners", partner_body())
    key = partner_key(client, staff_headers, "gazette")
    headers = staff_headers if path.startswith("/api") else {"Authorization": f"Bearer {key}"}
    answer = client.get(path, headers=headers)
    assert answer.status_code < 500, answer.text[:300]


@pytest.mark.parametrize("row_id", [2**31, 2**62, 375076582885])
def test_row_ids_beyond_a_32_bit_column_are_refused_not_failed(
    client: TestClient, staff_headers: dict[str, str], row_id: int
) -> None:
    """Schemathesis found this on PostgreSQL: its INTEGER id cannot take the number at all."""
    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/partners", partner_body())
    key = {"Authorization": f"Bearer {partner_key(client, staff_headers, 'gazette')}"}
    ack = client.post(f"/api/partner/v1/takedowns/{row_id}/ack", headers=key)
    assert ack.status_code == 400 and ack.json()["errors"][0]["field"] == "takedown_id"
    hook = client.delete(f"/api/v1/partners/gazette/webhooks/{row_id}", headers=staff_headers)
    assert hook.status_code == 400 and hook.json()["errors"][0]["field"] == "webhook_id"
