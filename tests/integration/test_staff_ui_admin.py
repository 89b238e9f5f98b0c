"""Staff web UI: licenses, partners and keys, the entitlement view, the dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from litestar.testing import TestClient

from syndication.db import session_scope
from syndication.partners.service import authenticate
from syndication.usage.service import Usage, record
from tests.conftest import Clock
from tests.factories import article_body, create, license_body, partner_body
from tests.integration.staff_ui_helpers import (
    cheap_hashing,  # noqa: F401 (autouse fixture)
    log_in,
    make_staff,
    post_form,
)

LICENSE_FORM = {
    "code": "free-eligible",
    "name": "Free for eligible publishers",
    "url": "https://news.example.org/republish",
    "credit_line": "Content created by {{ holder }} for {{ partner_name }}.",
    "contact_email": "licensing@example.org",
    "min_audience": "100,000",
    "window_days": "",
    "credit_placement": "bottom",
    "requires_canonical": "on",
    "_action": "save",
}


@pytest.fixture
def logged_in(client: TestClient, engine, staff_headers: dict[str, str]) -> dict[str, str]:
    make_staff(engine)
    log_in(client)
    return staff_headers


def errors(html: str) -> dict[str, str]:
    found = re.findall(r'<span class="error" id="([\w-]+)-error">([^<]*)</span>', html)
    return {name: unescape(message) for name, message in found}


def reasons(html: str) -> dict[str, str]:
    pattern = r'<small>([\w-]+)</small></td>.*?<td class="reason">([^<]+)<'
    return dict(re.findall(pattern, html, re.S))


def test_create_and_edit_a_license(client: TestClient, logged_in: dict[str, str]) -> None:
    assert post_form(client, "/staff/licenses/new", LICENSE_FORM).status_code == 303
    saved = client.get("/api/v1/licenses/free-eligible", headers=logged_in).json()
    assert (saved["min_audience"], saved["window_days"], saved["requires_pixel"]) == (
        100_000,
        None,
        False,
    )
    page = "/staff/licenses/free-eligible/edit"
    edit = client.get(page).text
    assert "Content created by The Example News Foundation for The Partner Gazette." in edit
    changed = {**LICENSE_FORM, "window_days": "30", "requires_pixel": "on"}
    assert post_form(client, page, changed).status_code == 303
    saved = client.get("/api/v1/licenses/free-eligible", headers=logged_in).json()
    assert (saved["window_days"], saved["requires_pixel"]) == (30, True)
    assert "free-eligible" in client.get("/staff/licenses/").text


def test_a_bad_credit_line_is_refused_beside_the_field(
    client: TestClient, logged_in: dict[str, str]
) -> None:
    bad = {**LICENSE_FORM, "credit_line": "By {{ holder }} {{ secret_key }}"}
    response = post_form(client, "/staff/licenses/new", bad)
    assert response.status_code == 422
    assert errors(response.text)["credit_line"].startswith("unknown name(s) secret_key")
    assert "{{ secret_key }}</textarea>" in response.text
    assert client.get("/api/v1/licenses/free-eligible", headers=logged_in).status_code == 404
    broken = {**LICENSE_FORM, "credit_line": "{{ holder ", "min_audience": "many"}
    found = errors(post_form(client, "/staff/licenses/new", broken).text)
    assert set(found) == {"min_audience", "credit_line"}  # every problem at once
    assert found["credit_line"].startswith("the template does not parse")


def test_credit_line_preview_does_not_save(client: TestClient, logged_in: dict[str, str]):
    form = {**LICENSE_FORM, "_action": "preview"}
    response = post_form(client, "/staff/licenses/new", form)
    assert response.status_code == 200
    sample = re.search(r'<q id="credit-sample">([^<]*)</q>', response.text)
    assert sample and unescape(sample.group(1)) == (
        "Content created by The Example News Foundation for The Partner Gazette."
    )
    assert client.get("/api/v1/licenses/free-eligible", headers=logged_in).status_code == 404


def test_partner_create_edit_and_errors(client: TestClient, logged_in: dict[str, str]) -> None:
    create(client, logged_in, "/api/v1/licenses", license_body())
    create(client, logged_in, "/api/v1/licenses", license_body("paid"))
    form = {
        "slug": "gazette",
        "name": "The Partner Gazette",
        "homepage": "",
        "audience": "250,000",
        "sections": "politics, city",
        "licenses": ["free-eligible", "paid"],
        "active": "on",
    }
    bad = post_form(client, "/staff/partners/new", {**form, "audience": "lots", "slug": "A B"})
    assert bad.status_code == 422 and set(errors(bad.text)) == {"audience", "slug"}
    assert 'value="The Partner Gazette"' in bad.text
    assert post_form(client, "/staff/partners/new", form).status_code == 303
    saved = client.get("/api/v1/partners/gazette", headers=logged_in).json()
    assert (saved["audience"], saved["sections"], saved["licenses"]) == (
        250_000,
        ["politics", "city"],
        ["free-eligible", "paid"],
    )
    page = "/staff/partners/gazette/edit"
    assert 'value="politics, city"' in client.get(page).text
    edited = {**form, "sections": "", "licenses": [], "active": ""}
    assert post_form(client, page, edited).status_code == 303
    saved = client.get("/api/v1/partners/gazette", headers=logged_in).json()
    assert (saved["sections"], saved["licenses"], saved["active"]) == (None, [], False)
    again = post_form(client, "/staff/partners/new", form)
    assert errors(again.text) == {"slug": "a partner with slug 'gazette' exists"}


def test_issue_a_key_once_and_revoke_it(
    client: TestClient, logged_in: dict[str, str], engine, clock: Clock
) -> None:
    create(client, logged_in, "/api/v1/licenses", license_body())
    create(client, logged_in, "/api/v1/partners", partner_body())
    show = "/staff/partners/gazette"
    response = post_form(client, f"{show}/keys", {}, page=show)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    key = re.search(r'id="new-key" type="text" readonly value="([^"]+)"', response.text)
    assert key
    secret = key.group(1)
    assert f"http://testserver.local/feeds/atom.xml?key={secret}" in response.text
    assert 'data-copy="new-key"' in response.text
    with session_scope(engine, write=False) as session:
        assert authenticate(session, secret, clock()).slug == "gazette"
    listing = client.get(show).text
    assert secret not in listing  # shown once only
    prefix = secret.split("_")[1]
    assert f"<code>synp_{prefix}</code>" in listing or prefix in listing
    key_prefix = re.search(r"/keys/([^/]+)/revoke", listing)
    assert key_prefix
    done = post_form(client, f"{show}/keys/{key_prefix.group(1)}/revoke", {}, page=show)
    assert done.status_code == 303
    assert "revoked" in client.get(show).text
    with session_scope(engine, write=False) as session, pytest.raises(Exception, match="revoked"):
        authenticate(session, secret, clock())


def test_entitlement_view_explains_each_decision(
    client: TestClient, logged_in: dict[str, str], clock: Clock
) -> None:
    create(client, logged_in, "/api/v1/licenses", license_body(min_audience=100_000))
    create(
        client, logged_in, "/api/v1/licenses", license_body("short", min_audience=0, window_days=1)
    )
    create(
        client,
        logged_in,
        "/api/v1/partners",
        partner_body("small", audience=5_000, licenses=["free-eligible", "short"]),
    )
    create(client, logged_in, "/api/v1/articles", article_body("big-story"))
    create(
        client,
        logged_in,
        "/api/v1/articles",
        article_body("old-story", license="short", published_at="2026-11-20T08:00:00+00:00"),
    )
    create(
        client,
        logged_in,
        "/api/v1/articles",
        article_body("later-story", license="short", embargo_until="2026-11-26T14:00:00+00:00"),
    )
    create(client, logged_in, "/api/v1/articles", article_body("fresh-story", license="short"))
    html = unescape(client.get("/staff/partners/small/entitlements").text)
    rows = reasons(html)
    assert rows["big-story"] == "audience 5,000 is below this license's minimum of 100,000"
    assert rows["old-story"] == "window closed on 21 Nov 2026 08:00 UTC"
    assert rows["later-story"] == "embargoed until 26 Nov 2026 14:00 UTC"
    assert rows["fresh-story"] == "entitled"
    clock.advance(hours=3)
    html = unescape(client.get("/staff/partners/small/entitlements").text)
    rows = reasons(html)
    assert rows["later-story"] == "entitled"


def test_dashboard_figures_and_charts(
    client: TestClient, logged_in: dict[str, str], engine, clock: Clock
) -> None:
    create(client, logged_in, "/api/v1/licenses", license_body())
    gazette = create(client, logged_in, "/api/v1/partners", partner_body())
    create(client, logged_in, "/api/v1/articles", article_body("used-story"))
    create(client, logged_in, "/api/v1/articles", article_body("quiet-story"))
    create(
        client,
        logged_in,
        "/api/v1/articles",
        article_body("tomorrow", embargo_until="2026-11-27T06:00:00+00:00"),
    )
    assert gazette["slug"] == "gazette"
    with session_scope(engine, write=False) as session:
        from syndication.articles.service import get_article
        from syndication.partners.service import get_partner

        used, partner = get_article(session, "used-story"), get_partner(session, "gazette")
    now = clock()
    assert partner.id is not None and used.id is not None
    record(
        engine,
        [
            Usage("feed_pull", partner.id, now - timedelta(days=1), format="atom"),
            Usage("feed_pull", partner.id, now, format="rss"),
            Usage("bundle_download", partner.id, now, article_id=used.id, format="zip"),
            *[
                Usage(
                    "pixel_hit",
                    partner.id,
                    now,
                    article_id=used.id,
                    page="https://gazette.example.com/budget",
                )
                for _ in range(3)
            ],
        ],
    )
    html = unescape(client.get("/staff/").text)
    today = re.search(r'id="today-heading">Registered today \((\d+)\)', html)
    assert today and today.group(1) == "3"
    embargo = html.split('id="embargo-heading"')[1].split("</section>")[0]
    assert "tomorrow" in embargo and "27 Nov 06:00 UTC" in embargo and "quiet" not in embargo
    unpicked = html.split('id="unpicked-heading"')[1].split("</section>")[0]
    assert "quiet-story" in unpicked and "used-story" not in unpicked
    pulls = html.split('id="pulls-heading"')[1].split("</section>")[0]
    assert "feed pull (rss)" in pulls and "bundle download (zip) of" in pulls
    assert html.count("<svg") == 3
    assert "<title>Thu 26 Nov, pixel hits: 3</title>" in html
    assert "<title>Wed 25 Nov, feed pulls: 1</title>" in html
    assert "<title>The Partner Gazette, feed pulls: 2</title>" in html
    assert "<title>used-story, bundle downloads: 1</title>" in html
    assert "https://gazette.example.com/budget</a>: 3" in html
