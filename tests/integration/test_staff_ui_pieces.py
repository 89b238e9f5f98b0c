"""Staff web UI, pieces: search, the form with rows, errors, preview, correct, withdraw."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import Clock
from tests.factories import article_body, create, license_body, partner_body
from tests.integration.staff_ui_helpers import (
    cheap_hashing,  # noqa: F401 (autouse fixture)
    log_in,
    make_staff,
    post_form,
)


def piece_form(slug: str = "council-budget", **over: str) -> dict[str, str]:
    form = {
        "slug": slug,
        "headline": "Council approves the budget",
        "byline": "Ana Example",
        "summary": "The council voted 7-2.",
        "body_html": "<p>The council approved it.</p><script>alert(1)</script>",
        "section": "politics",
        "tags": "budget, council",
        "canonical_url": f"https://news.example.org/2026/{slug}",
        "copyright_holder": "The Example News Foundation",
        "license": "free-eligible",
        "published_at": "2026-11-26T08:00",
        "embargo_until": "",
        "source_credits-0-name": "Politico",
        "source_credits-0-url": "https://www.politico.com/",
        "related-0-title": "Earlier",
        "related-0-url": "https://news.example.org/2026/earlier",
        "images-0-url": "https://news.example.org/a.jpg",
        "images-0-caption": "Council chamber",
        "images-0-credit": "Photo: A",
        "images-0-syndicate": "on",
        "images-1-url": "",  # a blank row in between is dropped
        "images-2-url": "https://news.example.org/secret.jpg",
        "images-2-caption": "Agency picture",
        "images-2-credit": "Agency",
        "_action": "save",
    }
    return {**form, **over}


@pytest.fixture
def desk(client: TestClient, engine, staff_headers: dict[str, str]) -> dict[str, str]:
    create(client, staff_headers, "/api/v1/licenses", license_body(min_audience=100_000))
    create(client, staff_headers, "/api/v1/partners", partner_body())
    create(client, staff_headers, "/api/v1/partners", partner_body("small", audience=5_000))
    make_staff(engine)
    log_in(client)
    return staff_headers


def errors(html: str) -> dict[str, str]:
    found = re.findall(r'<span class="error" id="([\w-]+)-error">([^<]*)</span>', html)
    return {name: unescape(message) for name, message in found}


def api_piece(client: TestClient, headers: dict[str, str], slug: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/articles/{slug}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_register_a_piece_with_rows(client: TestClient, desk: dict[str, str]) -> None:
    response = post_form(client, "/staff/pieces/new", piece_form())
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/pieces/council-budget"
    piece = api_piece(client, desk, "council-budget")
    assert piece["tags"] == ["budget", "council"]
    assert piece["published_at"] == "2026-11-26T08:00:00Z"
    assert "<script>" not in piece["body_html"]
    assert piece["source_credits"] == [{"name": "Politico", "url": "https://www.politico.com/"}]
    assert piece["related"] == [
        {"title": "Earlier", "url": "https://news.example.org/2026/earlier"}
    ]
    assert [(i["url"].rsplit("/", 1)[1], i["syndicate"]) for i in piece["images"]] == [
        ("a.jpg", True),
        ("secret.jpg", False),
    ]
    assert "Piece registered." in client.get("/staff/pieces/council-budget").text


def test_field_errors_sit_beside_their_fields_and_keep_the_input(
    client: TestClient, desk: dict[str, str]
) -> None:
    form = piece_form(headline="", **{"images-2-url": "not a url", "related-0-url": "ftp://x"})
    response = post_form(client, "/staff/pieces/new", form)
    assert response.status_code == 422
    found = errors(response.text)
    # the blank image row was dropped, so the third row is now the second
    assert set(found) == {"headline", "images-1-url", "related-0-url"}
    assert "absolute http or https URL" in found["images-1-url"]
    assert 'id="images-1-url" name="images-1-url" type="url" value="not a url"' in response.text
    assert 'value="Agency picture"' in response.text and 'value="Politico"' in response.text
    assert '<a href="#images-1-url">images 1 url</a>' in response.text  # the summary links there
    assert client.get("/api/v1/articles/council-budget", headers=desk).status_code == 404


def test_missing_date_and_service_refusals_are_shown_beside_the_field(
    client: TestClient, desk: dict[str, str]
) -> None:
    response = post_form(client, "/staff/pieces/new", piece_form(published_at=""))
    assert "published_at" in errors(response.text)
    response = post_form(client, "/staff/pieces/new", piece_form(license="no-such-license"))
    assert errors(response.text) == {"license": "no license 'no-such-license'"}
    late = piece_form(embargo_until="2026-11-25T08:00")
    assert "embargo_until" in errors(post_form(client, "/staff/pieces/new", late).text)
    assert post_form(client, "/staff/pieces/new", piece_form()).status_code == 303
    response = post_form(client, "/staff/pieces/new", piece_form())
    assert response.status_code == 422
    assert errors(response.text) == {"slug": "a piece with slug 'council-budget' exists"}


def test_more_rows_redraws_without_saving(client: TestClient, desk: dict[str, str]) -> None:
    response = post_form(client, "/staff/pieces/new", piece_form(_action="more"))
    assert response.status_code == 200
    assert 'name="images-5-url"' in response.text  # 2 kept rows + 2 + 2 more blank rows
    assert client.get("/api/v1/articles/council-budget", headers=desk).status_code == 404


def test_search_and_filters(client: TestClient, desk: dict[str, str], clock: Clock) -> None:
    create(client, desk, "/api/v1/articles", article_body("budget-vote"))
    create(
        client,
        desk,
        "/api/v1/articles",
        article_body(
            "storm-warning",
            headline="Storm warning",
            section="weather",
            embargo_until="2026-11-27T06:00:00+00:00",
        ),
    )

    def listed(query: str) -> set[str]:
        html = client.get(f"/staff/pieces/?{query}").text
        return set(re.findall(r'href="/staff/pieces/([\w-]+)"', html)) - {"new"}

    assert listed("") == {"budget-vote", "storm-warning"}
    assert listed("q=STORM") == {"storm-warning"}
    assert listed("section=politics") == {"budget-vote"}
    assert listed("embargoed=true") == {"storm-warning"}
    assert listed("status=withdrawn") == set()
    assert listed("license=free-eligible") == {"budget-vote", "storm-warning"}


def test_edit_bumps_the_revision_and_refuses_a_stale_form(
    client: TestClient, desk: dict[str, str]
) -> None:
    post_form(client, "/staff/pieces/new", piece_form())
    edit = client.get("/staff/pieces/council-budget/edit").text
    assert 'value="Politico"' in edit and 'value="2026-11-26T08:00"' in edit
    etag = re.search(r'name="_etag" value="([^"]+)"', edit)
    assert etag
    form = piece_form(headline="Council approves the final budget", _etag=unescape(etag.group(1)))
    page = "/staff/pieces/council-budget/edit"
    assert post_form(client, page, form).status_code == 303
    piece = api_piece(client, desk, "council-budget")
    assert piece["headline"] == "Council approves the final budget"
    assert piece["revision"] == 2
    assert [i["syndicate"] for i in piece["images"]] == [True, False]
    stale = post_form(client, page, {**form, "headline": "Another"})
    assert stale.status_code == 422
    assert "the piece changed since you read it" in stale.text
    assert api_piece(client, desk, "council-budget")["headline"].endswith("final budget")


def test_preview_for_a_partner_uses_the_shared_fragment(
    client: TestClient, desk: dict[str, str]
) -> None:
    post_form(client, "/staff/pieces/new", piece_form())
    html = client.get("/staff/pieces/council-budget?partner=gazette").text
    assert "The Partner Gazette: receives this piece" in html
    assert "Content created by The Example News Foundation is available" in html
    assert 'class="syndicated-piece"' in html and "a.jpg" in html
    assert "secret.jpg" not in html  # not syndicated: never in what a partner receives
    shown = html.split('id="fragment">')[1].split("</div>")[0]
    source = html.split('id="fragment-source">')[1].split("</pre>")[0]
    assert "a.jpg" in shown and "syndication-pixel" not in shown  # viewing must not count
    assert "class=&#34;syndication-pixel&#34; src=&#34;http://testserver.local/px/" in source
    small = client.get("/staff/pieces/council-budget?partner=small").text
    assert "does not receive this piece now" in small
    assert "audience 5,000 is below this license&#39;s minimum of 100,000" in small
    assert client.get("/staff/pieces/council-budget?partner=nobody").status_code == 404


def test_correct_then_withdraw_with_confirmation(client: TestClient, desk: dict[str, str]):
    post_form(client, "/staff/pieces/new", piece_form())
    page = "/staff/pieces/council-budget"
    empty = post_form(client, f"{page}/corrections", {"text": "  "}, page=page)
    assert empty.status_code == 422 and "text" in errors(empty.text)
    fixed = post_form(client, f"{page}/corrections", {"text": "The vote was 7-2."}, page=page)
    assert fixed.status_code == 303
    piece = api_piece(client, desk, "council-budget")
    assert [c["text"] for c in piece["corrections"]] == ["The vote was 7-2."]
    assert piece["revision"] == 2

    confirm = client.get(f"{page}/withdraw")
    assert "cannot be undone" in confirm.text
    unconfirmed = post_form(client, f"{page}/withdraw", {"reason": "Legal"})
    assert unconfirmed.status_code == 422 and "confirm" in errors(unconfirmed.text)
    assert "Legal</textarea>" in unconfirmed.text
    reasonless = post_form(client, f"{page}/withdraw", {"reason": "", "confirm": "on"})
    assert "reason" in errors(reasonless.text)
    assert api_piece(client, desk, "council-budget")["status"] == "published"
    done = post_form(client, f"{page}/withdraw", {"reason": "Legal", "confirm": "on"})
    assert done.status_code == 303
    piece = api_piece(client, desk, "council-budget")
    assert (piece["status"], piece["withdrawal_reason"]) == ("withdrawn", "Legal")
    assert "Withdraw…" not in client.get(page).text
    again = post_form(client, f"{page}/withdraw", {"reason": "x", "confirm": "on"})
    assert again.status_code == 422 and "the piece is withdrawn" in again.text


def test_unknown_piece_is_an_html_404(client: TestClient, desk: dict[str, str]) -> None:
    response = client.get("/staff/pieces/nothing-here")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"] and "no piece" in response.text
