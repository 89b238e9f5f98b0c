"""Staff web UI: login, logout, throttling, session cookie, CSRF, anonymous refusal."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from syndication.app import create_app
from syndication.settings import Settings
from tests.conftest import Clock
from tests.factories import create, license_body
from tests.integration.staff_ui_helpers import (
    EMAIL,
    PASSWORD,
    cheap_hashing,  # noqa: F401 (autouse fixture)
    csrf_token,
    log_in,
    make_staff,
    post_form,
)

PUBLIC = {"/staff/login", "/staff/static/{file_path:path}"}


def _staff_paths(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for path, methods in app.route_handler_method_map.items():
        if not path.startswith("/staff") or path in PUBLIC:
            continue
        concrete = re.sub(r"\{(\w+):\w+\}", "x", path)
        found += [(m, concrete) for m in methods if m in ("GET", "POST")]
    return sorted(found)


def test_every_staff_page_sends_anonymous_visitors_to_login(client: TestClient, app: Litestar):
    paths = _staff_paths(app)
    assert len(paths) >= 18  # every page and form of the UI, found from the route table
    token = csrf_token(client, "/staff/login")
    for method, path in paths:
        data = {"_csrf_token": token} if method == "POST" else None
        response = client.request(method, path, data=data, follow_redirects=False)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/staff/login"), (method, path)


def test_staff_pages_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/api/v1/licenses" in paths
    assert not [p for p in paths if p.startswith("/staff")]


def test_login_then_pages_then_logout(client: TestClient, engine) -> None:
    make_staff(engine)
    response = client.get("/staff/pieces/?q=budget", follow_redirects=False)
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Fpieces%3Fq%3Dbudget"
    token = csrf_token(client, response.headers["location"])
    response = client.post(
        "/staff/login",
        data={
            "email": EMAIL.upper(),
            "password": PASSWORD,
            "next": "/staff/pieces?q=budget",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/pieces?q=budget"
    page = client.get("/staff/")
    assert page.status_code == 200 and f"Logged in as {EMAIL}" in page.text
    copied = client.cookies.get("staff_session")
    assert post_form(client, "/staff/logout", {}, page="/staff/").status_code == 303
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    client.cookies.set("staff_session", copied, domain="testserver.local", path="/staff")
    replayed = client.get("/staff/", follow_redirects=False)  # a copy of the old cookie
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/staff/login")


def test_login_never_redirects_off_site(client: TestClient, engine) -> None:
    make_staff(engine)
    token = csrf_token(client, "/staff/login")
    for target in ("https://evil.example/", "//evil.example/staff/", "/api/v1/licenses"):
        response = client.post(
            "/staff/login",
            data={"email": EMAIL, "password": PASSWORD, "next": target, "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/staff/"


def test_session_cookie_flags(client: TestClient, engine) -> None:
    make_staff(engine)
    cookie = log_in(client).headers["set-cookie"]
    assert cookie.startswith("staff_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # the base URL is http here


def test_session_cookie_is_secure_when_the_base_url_is_https(database_url: str, engine) -> None:
    settings = Settings(database_url=database_url, base_url="https://desk.example", secret_key="s")
    make_staff(engine)
    with TestClient(create_app(settings), base_url="https://desk.example") as https_client:
        csrf_cookie = https_client.get("/staff/login").headers["set-cookie"]
        cookie = log_in(https_client).headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert csrf_cookie.startswith("staff_csrf=") and "Secure" in csrf_cookie


def test_wrong_password_is_refused_without_a_session(client: TestClient, engine) -> None:
    make_staff(engine)
    response = log_in(client, password="not the password")
    assert response.status_code == 401
    assert "wrong email or password" in response.text
    assert EMAIL in response.text  # the email is kept in the form
    assert "staff_session" not in response.headers.get("set-cookie", "")
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    assert log_in(client, email="nobody@example.org").status_code == 401


def test_login_is_throttled_after_five_failures(client: TestClient, engine, clock: Clock):
    make_staff(engine)
    for _ in range(5):
        assert log_in(client, password="wrong password!").status_code == 401
    response = log_in(client)  # even the right password waits
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 15 * 60
    assert "too many failed logins" in response.text
    assert log_in(client, email="other@example.org").status_code == 401  # another email: no wait
    clock.advance(minutes=10)
    assert int(log_in(client).headers["Retry-After"]) == 5 * 60
    clock.advance(minutes=5, seconds=1)
    assert log_in(client).status_code == 303


def test_a_successful_login_clears_the_failures(client: TestClient, engine) -> None:
    make_staff(engine)
    for _ in range(4):
        log_in(client, password="wrong password!")
    assert log_in(client).status_code == 303
    for _ in range(4):
        assert log_in(client, password="wrong password!").status_code == 401
    assert log_in(client).status_code == 303


@pytest.mark.parametrize("token", [None, "forged", "wrong-token"])
def test_a_form_post_without_a_valid_csrf_token_is_refused(
    client: TestClient, engine, token: str | None
) -> None:
    make_staff(engine)
    log_in(client)
    data = {"code": "free-eligible", **{k: str(v) for k, v in license_body().items()}}
    if token == "wrong-token":
        real = csrf_token(client, "/staff/licenses/new")
        token = ("a" if real[0] != "a" else "b") + real[1:]
    if token:
        data["_csrf_token"] = token
    response = client.post("/staff/licenses/new", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "This form was refused" in response.text
    assert "free-eligible" not in client.get("/staff/licenses/").text


def test_login_form_itself_needs_the_csrf_token(client: TestClient, engine) -> None:
    make_staff(engine)
    response = client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 403
    assert "This form was refused" in response.text


def test_the_json_api_needs_no_csrf_token(client: TestClient, staff_headers) -> None:
    client.get("/staff/login")  # holding a CSRF cookie changes nothing for the API
    assert create(client, staff_headers, "/api/v1/licenses", license_body())["code"]
    assert "staff_csrf" not in client.get("/api/v1/licenses", headers=staff_headers).headers.get(
        "set-cookie", ""
    )
