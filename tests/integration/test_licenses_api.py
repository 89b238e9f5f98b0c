"""Staff JSON API: licenses."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.factories import article_body, create, license_body, partner_body

API = "/api/v1/licenses"


def test_crud(client: TestClient, staff_headers: dict) -> None:
    created = create(client, staff_headers, API, license_body())
    assert created["code"] == "free-eligible" and created["min_audience"] == 10_000
    assert client.get(f"{API}/free-eligible", headers=staff_headers).json() == created
    listed = client.get(API, headers=staff_headers).json()
    assert [x["code"] for x in listed] == ["free-eligible"]
    patched = client.patch(
        f"{API}/free-eligible", json={"window_days": 14, "name": "Free"}, headers=staff_headers
    )
    assert patched.status_code == 200 and patched.json()["window_days"] == 14
    assert client.delete(f"{API}/free-eligible", headers=staff_headers).status_code == 204
    assert client.get(f"{API}/free-eligible", headers=staff_headers).status_code == 404


def test_duplicate_code_is_409(client: TestClient, staff_headers: dict) -> None:
    create(client, staff_headers, API, license_body())
    again = client.post(API, json=license_body(), headers=staff_headers)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "code"


def test_credit_line_refused_names_the_field(client: TestClient, staff_headers: dict) -> None:
    for bad in ("{{ author }}", "{{ holder", "{{ 1/0 }}"):
        answer = client.post(API, json=license_body(credit_line=bad), headers=staff_headers)
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["field"] == "credit_line"
    assert client.get(API, headers=staff_headers).json() == []
    create(client, staff_headers, API, license_body())
    patched = client.patch(
        f"{API}/free-eligible", json={"credit_line": "{{ nope }}"}, headers=staff_headers
    )
    assert patched.status_code == 422
    assert (
        client.get(f"{API}/free-eligible", headers=staff_headers).json()["credit_line"]
        == (license_body()["credit_line"])
    )


def test_bad_fields_are_named(client: TestClient, staff_headers: dict) -> None:
    cases = {
        "code": "Not A Slug",
        "url": "ftp://x",
        "contact_email": "nobody",
        "min_audience": -1,
        "window_days": 0,
        "credit_placement": "middle",
    }
    for field, value in cases.items():
        answer = client.post(API, json=license_body(**{field: value}), headers=staff_headers)
        assert answer.status_code == 400, field
        assert field in {e["field"] for e in answer.json()["errors"]}, answer.json()
    null_name = client.post(API, json=license_body(), headers=staff_headers)
    assert null_name.status_code == 201
    answer = client.patch(f"{API}/free-eligible", json={"name": None}, headers=staff_headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "name"


def test_delete_in_use_is_409(client: TestClient, staff_headers: dict) -> None:
    create(client, staff_headers, API, license_body())
    create(client, staff_headers, "/api/v1/partners", partner_body())
    answer = client.delete(f"{API}/free-eligible", headers=staff_headers)
    assert answer.status_code == 409
    client.delete("/api/v1/partners/gazette", headers=staff_headers)
    create(
        client,
        staff_headers,
        "/api/v1/articles",
        article_body(published_at="2030-01-01T00:00:00Z"),
    )
    assert client.delete(f"{API}/free-eligible", headers=staff_headers).status_code == 409


def test_staff_token_required(client: TestClient, staff_headers: dict) -> None:
    assert client.get(API).status_code == 401
    assert client.get(API, headers={"Authorization": "Bearer syns_x_y"}).status_code == 401
    assert client.post(API, json=license_body()).status_code == 401
    wrong = staff_headers["Authorization"][:-2] + "xx"
    assert client.get(API, headers={"Authorization": wrong}).status_code == 401
