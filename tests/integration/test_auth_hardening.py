"""Failed authentication is throttled; every answer carries the security headers."""

from __future__ import annotations

from litestar.testing import TestClient

from syndication.ratelimit import FailureLimiter, TooManyAttempts


def test_guessing_a_staff_token_is_throttled(client: TestClient, staff_headers: dict) -> None:
    wrong = {"Authorization": staff_headers["Authorization"][:-4] + "zzzz"}
    answers = [client.get("/api/v1/licenses", headers=wrong).status_code for _ in range(12)]
    assert answers[:9] == [401] * 9 and answers[9:] == [429, 429, 429]
    refused = client.get("/api/v1/licenses", headers=wrong)
    assert int(refused.headers["retry-after"]) >= 1
    assert client.get("/api/v1/licenses", headers=staff_headers).status_code == 200


def test_guessing_many_keys_from_one_address_is_throttled(
    client: TestClient, staff_headers: dict
) -> None:
    guesses = [
        client.get("/api/v1/licenses", headers={"Authorization": f"Bearer syns_{n:012d}_x"})
        for n in range(52)
    ]
    assert [g.status_code for g in guesses[:50]] == [401] * 50
    assert guesses[50].status_code == 429 and "retry-after" in guesses[50].headers
    # the whole address is refused now, even with a good token, until the window passes
    assert client.get("/api/v1/licenses", headers=staff_headers).status_code == 429


def test_limiter_window_slides() -> None:
    now = [0.0]
    limiter = FailureLimiter(limit=2, window_s=10, clock=lambda: now[0])
    limiter.fail("k")
    limiter.fail("k")
    try:
        limiter.check("k")
        raise AssertionError("should refuse")
    except TooManyAttempts as exc:
        assert exc.retry_after == 10
    now[0] = 10.5
    limiter.check("k")
    limiter.check("other")


def test_security_headers(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    html = client.get("/schema/swagger")
    if html.headers["content-type"].startswith("text/html"):
        assert "frame-ancestors 'none'" in html.headers["content-security-policy"]
        assert html.headers["x-frame-options"] == "DENY"


def test_cross_site_writes_are_refused(client: TestClient, staff_headers: dict) -> None:
    from tests.factories import license_body

    foreign = {**staff_headers, "Origin": "https://evil.example.com"}
    answer = client.post("/api/v1/licenses", json=license_body(), headers=foreign)
    assert answer.status_code == 403 and answer.json()["errors"][0]["field"] == "Origin"
    fetch = {**staff_headers, "Sec-Fetch-Site": "cross-site"}
    assert client.post("/api/v1/licenses", json=license_body(), headers=fetch).status_code == 403
    assert client.get("/api/v1/licenses", headers=foreign).status_code == 200  # reads are fine
    same = {**staff_headers, "Origin": "http://testserver.local", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/licenses", json=license_body(), headers=same).status_code == 201
    assert client.get("/api/v1/licenses", headers=staff_headers).json()[0]["code"] == (
        "free-eligible"
    )


def test_guessing_feed_keys_is_throttled(client: TestClient, staff_headers: dict) -> None:
    from tests.factories import create, license_body, partner_body, partner_key

    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/partners", partner_body())
    key = partner_key(client, staff_headers, "gazette")
    wrong = key[:-4] + "zzzz"
    statuses = [client.get(f"/feeds/atom.xml?key={wrong}").status_code for _ in range(11)]
    assert statuses[:9] == [401] * 9 and statuses[9:] == [429, 429]
    assert client.get(f"/feeds/atom.xml?key={key}").status_code == 200  # the holder still gets in
