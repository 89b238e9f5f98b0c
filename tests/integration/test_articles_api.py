"""Staff JSON API: articles, revisions, corrections and withdrawal."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.factories import article_body, create, license_body

API = "/api/v1/articles"


@pytest.fixture
def licensed(client: TestClient, staff_headers: dict) -> None:
    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/licenses", license_body("paid"))


def test_create_read_list(client: TestClient, staff_headers: dict, licensed: None) -> None:
    created = client.post(API, json=article_body(), headers=staff_headers)
    assert created.status_code == 201
    body = created.json()
    assert body["revision"] == 1 and body["status"] == "published"
    assert body["license"] == "free-eligible"
    assert body["published_at"] == "2026-11-26T08:00:00Z"
    assert created.headers["etag"]
    read = client.get(f"{API}/council-budget", headers=staff_headers)
    assert read.json() == body and read.headers["etag"] == created.headers["etag"]
    page = client.get(API, headers=staff_headers).json()
    assert page["total"] == 1 and page["items"][0]["slug"] == "council-budget"


def test_timestamps_are_answered_in_utc(
    client: TestClient, staff_headers: dict, licensed: None
) -> None:
    body = article_body(published_at="2026-11-26T10:00:00+02:00")
    assert create(client, staff_headers, API, body)["published_at"] == "2026-11-26T08:00:00Z"
    naive = client.post(
        API, json=article_body("naive", published_at="2026-11-26T10:00:00"), headers=staff_headers
    )
    assert naive.status_code == 400 and naive.json()["errors"][0]["field"] == "published_at"


def test_body_is_sanitised(client: TestClient, staff_headers: dict, licensed: None) -> None:
    html = '<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:x()">l</a></p>'
    stored = create(client, staff_headers, API, article_body(body_html=html))["body_html"]
    assert "script" not in stored and "onclick" not in stored and "javascript" not in stored
    assert stored.startswith("<p>Hi")


def test_list_filters_and_paging(client: TestClient, staff_headers: dict, licensed: None) -> None:
    for n in range(5):
        create(
            client,
            staff_headers,
            API,
            article_body(
                f"piece-{n}",
                section="politics" if n % 2 else "health",
                license="paid" if n == 4 else "free-eligible",
                published_at=f"2026-11-2{n}T08:00:00Z",
            ),
        )
    client.post(f"{API}/piece-0/withdraw", json={"reason": "legal"}, headers=staff_headers)

    def slugs(query: str) -> list[str]:
        answer = client.get(f"{API}?{query}", headers=staff_headers)
        assert answer.status_code == 200, answer.text
        return [a["slug"] for a in answer.json()["items"]]

    assert slugs("") == ["piece-4", "piece-3", "piece-2", "piece-1", "piece-0"]
    assert slugs("limit=2&offset=1") == ["piece-3", "piece-2"]
    assert slugs("section=politics") == ["piece-3", "piece-1"]
    assert slugs("license=paid") == ["piece-4"]
    assert slugs("status=withdrawn") == ["piece-0"]
    assert slugs("q=PIECE-2") == ["piece-2"]
    assert client.get(f"{API}?limit=1000", headers=staff_headers).status_code == 400
    assert client.get(f"{API}?status=gone", headers=staff_headers).status_code == 400


def test_patch_honours_if_match(client: TestClient, staff_headers: dict, licensed: None) -> None:
    create(client, staff_headers, API, article_body())
    etag = client.get(f"{API}/council-budget", headers=staff_headers).headers["etag"]
    first = client.patch(
        f"{API}/council-budget",
        json={"headline": "New headline"},
        headers={**staff_headers, "If-Match": etag},
    )
    assert first.status_code == 200 and first.json()["revision"] == 2
    assert first.headers["etag"] != etag
    stale = client.patch(
        f"{API}/council-budget",
        json={"headline": "Lost update"},
        headers={**staff_headers, "If-Match": etag},
    )
    assert stale.status_code == 412
    current = client.get(f"{API}/council-budget", headers=staff_headers).json()
    assert current["headline"] == "New headline" and current["revision"] == 2
    same = client.patch(
        f"{API}/council-budget", json={"headline": "New headline"}, headers=staff_headers
    )
    assert same.json()["revision"] == 2  # nothing partners see changed


def test_patch_bad_input_writes_nothing(
    client: TestClient, staff_headers: dict, licensed: None
) -> None:
    create(client, staff_headers, API, article_body())
    before = client.get(f"{API}/council-budget", headers=staff_headers).json()
    for patch, field in [
        ({"headline": "ok", "license": "nope"}, "license"),
        ({"headline": "ok", "canonical_url": "not a url"}, "canonical_url"),
        ({"headline": "ok", "embargo_until": "2020-01-01T00:00:00Z"}, "embargo_until"),
        ({"headline": None}, "headline"),
        ({"images": [{"url": "https://x.org/a.jpg", "bogus": 1}]}, "images.0.bogus"),
    ]:
        answer = client.patch(f"{API}/council-budget", json=patch, headers=staff_headers)
        assert 400 <= answer.status_code < 500, patch
        assert field in {e["field"] for e in answer.json()["errors"]}, answer.json()
    assert client.get(f"{API}/council-budget", headers=staff_headers).json() == before


def test_duplicate_slug_is_409(client: TestClient, staff_headers: dict, licensed: None) -> None:
    create(client, staff_headers, API, article_body())
    again = client.post(API, json=article_body(), headers=staff_headers)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "slug"


def test_unknown_license_is_named(client: TestClient, staff_headers: dict, licensed: None) -> None:
    answer = client.post(API, json=article_body(license="nope"), headers=staff_headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "license"
    assert client.get(API, headers=staff_headers).json()["total"] == 0


def test_corrections_bump_revision(client: TestClient, staff_headers: dict, licensed: None) -> None:
    create(client, staff_headers, API, article_body())
    answer = client.post(
        f"{API}/council-budget/corrections", json={"text": "Fixed a date."}, headers=staff_headers
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["revision"] == 2
    assert body["corrections"][0]["text"] == "Fixed a date."
    assert body["corrections"][0]["at"].endswith("Z")
    empty = client.post(
        f"{API}/council-budget/corrections", json={"text": ""}, headers=staff_headers
    )
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "text"


def test_withdraw(client: TestClient, staff_headers: dict, licensed: None) -> None:
    create(client, staff_headers, API, article_body())
    missing = client.post(f"{API}/council-budget/withdraw", json={}, headers=staff_headers)
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "reason"
    answer = client.post(
        f"{API}/council-budget/withdraw", json={"reason": "Legal kill"}, headers=staff_headers
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "withdrawn" and body["withdrawal_reason"] == "Legal kill"
    assert body["revision"] == 2 and body["withdrawn_at"]
    again = client.patch(f"{API}/council-budget", json={"headline": "x"}, headers=staff_headers)
    assert again.status_code == 409
    assert client.delete(f"{API}/council-budget", headers=staff_headers).status_code == 409


def test_delete_only_before_publication(
    client: TestClient, staff_headers: dict, licensed: None
) -> None:
    create(client, staff_headers, API, article_body("future", published_at="2030-01-01T00:00:00Z"))
    assert client.delete(f"{API}/future", headers=staff_headers).status_code == 204
    assert client.get(f"{API}/future", headers=staff_headers).status_code == 404
    assert client.delete(f"{API}/future", headers=staff_headers).status_code == 404


def test_oversized_request_is_413(client: TestClient, staff_headers: dict, licensed: None) -> None:
    huge = article_body(body_html="<p>" + "x" * 5_000_000 + "</p>")
    assert client.post(API, json=huge, headers=staff_headers).status_code == 413
