"""The desk's day in a real browser: log in, license, partner and key, register a piece, see it
in the partner's Atom feed, correct it, withdraw it, and read why a partner is refused.

The steps share one server and one browser page and run in order (a scenario, not units).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips, or fails when the browser is required
    expect = None  # type: ignore[assignment]

from syndication.db import session_scope
from syndication.licensing.models import LicenseCreate
from syndication.licensing.service import create_license
from syndication.partners.models import PartnerCreate
from syndication.partners.service import create_partner
from tests.e2e.conftest import EMAIL, PASSWORD, SCREENSHOTS, LiveServer

# Each step builds on the page and the state the one before left: under pytest-xdist the file
# runs whole in one process (make test: --dist loadfile).
pytestmark = pytest.mark.e2e
HEADLINE = "Harbour bridge reopens after repairs"
SLUG = "harbour-bridge"
STATE: dict[str, Any] = {}


def _published_at() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


class TestDeskScenario:
    def test_log_in(self, page: Any) -> None:
        page.goto("/staff/pieces/")
        assert "/staff/login" in page.url
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/staff/pieces$"))
        expect(page.get_by_role("heading", name="Pieces")).to_be_visible()

    def test_create_a_license(self, page: Any) -> None:
        page.get_by_role("link", name="Licenses").click()
        page.get_by_role("link", name="New license").click()
        page.get_by_label("Code").fill("free-eligible")
        page.get_by_label("Name").fill("Free for eligible publishers")
        page.get_by_label("License URL").fill("https://news.example.org/republish")
        page.get_by_label("Credit line template").fill(
            "Content created by {{ holder }} is available to {{ partner_name }}."
        )
        page.get_by_role("button", name="Check and preview the credit line").click()
        assert "is available to The Partner Gazette." in page.locator("#credit-sample").inner_text()
        page.get_by_label("Contact email").fill("licensing@example.org")
        page.get_by_label("Minimum audience (monthly readers)").fill("100,000")
        page.get_by_role("button", name="Create license").click()
        expect(page.get_by_text("License free-eligible created.")).to_be_visible()

    def test_create_a_partner_and_take_its_key(self, page: Any) -> None:
        page.get_by_role("link", name="Partners").click()
        page.get_by_role("link", name="New partner").click()
        page.get_by_label("Slug").fill("gazette")
        page.get_by_label("Name").fill("The Harbour Gazette")
        page.get_by_label("Audience (monthly readers)").fill("250000")
        page.get_by_label(re.compile("^free-eligible")).check()
        page.get_by_role("button", name="Create partner").click()
        expect(page.get_by_text("Partner created.")).to_be_visible()
        page.get_by_role("button", name="Issue a new key").click()
        key = page.locator("#new-key").input_value()
        assert key.startswith("synp_")
        # the vendored script un-hides the copy buttons
        expect(page.get_by_role("button", name="Copy").first).to_be_visible()
        page.get_by_role("button", name="Copy").first.click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        atom = page.get_by_label("Atom").input_value()
        assert atom.endswith(f"/feeds/atom.xml?key={key}")
        STATE["key"], STATE["atom"] = key, atom

    def test_register_a_piece_through_the_form(self, page: Any) -> None:
        page.goto("/staff/pieces/new")
        page.get_by_label("Slug").fill(SLUG)
        page.get_by_label("Headline").fill(HEADLINE)
        page.get_by_label("Byline").fill("Ana Example")
        page.get_by_label("Body (HTML)").fill("<p>The bridge reopened on Thursday.</p>")
        page.get_by_label("Section").fill("city")
        page.get_by_label("Canonical URL").fill(f"https://news.example.org/2026/{SLUG}")
        page.get_by_label("Copyright holder").fill("The Example News Foundation")
        page.get_by_label("License").select_option("free-eligible")
        page.get_by_label("Published at (UTC)").fill(_published_at())
        page.get_by_label("Source name 1").fill("Harbour Authority")
        page.get_by_label("Link title 1").fill("Bridge closed for repairs")
        page.get_by_label("Link URL 1").fill("https://news.example.org/2026/bridge-closed")
        page.get_by_label("Image URL 1").fill("https://news.example.org/img/bridge.jpg")
        page.get_by_label("Caption 1").fill("The bridge at dawn")
        page.get_by_label("Image credit 1").fill("Photo: B. Example")
        page.get_by_label("Image URL 2").fill("https://news.example.org/img/crowd.jpg")
        page.get_by_label("Caption 2").fill("The first crossing")
        page.get_by_label("Image credit 2").fill("Agency")
        page.locator("#images-1-syndicate").uncheck()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "piece-form.png"), full_page=True)
        page.get_by_role("button", name="Register piece").click()
        expect(page.get_by_text("Piece registered.")).to_be_visible()
        page.get_by_label("Partner", exact=True).select_option("gazette")
        page.get_by_role("button", name="Preview").click()
        assert "receives this piece" in page.locator("#decision").inner_text()
        fragment = page.locator("#fragment")
        expect(fragment.get_by_role("link", name="Bridge closed for repairs")).to_be_visible()
        assert fragment.locator("img[src$='bridge.jpg']").count() == 1
        assert fragment.locator("img[src$='crowd.jpg']").count() == 0  # not syndicated

    def test_see_it_in_the_partners_atom_feed(self, page: Any, live_server: LiveServer) -> None:
        if not live_server.has_route("/feeds/atom.xml"):
            pytest.skip("this build has no /feeds/atom.xml yet (the feeds come in another branch)")
        response = httpx.get(STATE["atom"], timeout=10)
        assert response.status_code == 200
        assert "<entry" in response.text and HEADLINE in response.text

    def test_correct_it(self, page: Any) -> None:
        page.goto(f"/staff/pieces/{SLUG}")
        page.get_by_label("Correction note").fill("An earlier version misnamed the bridge.")
        page.get_by_role("button", name="Add correction").click()
        expect(page.get_by_text("Correction added.")).to_be_visible()
        expect(page.get_by_text("An earlier version misnamed the bridge.")).to_be_visible()
        assert page.locator("dd", has_text=re.compile(r"^2$")).count() == 1  # revision 2

    def test_withdraw_it(self, page: Any) -> None:
        page.get_by_role("link", name="Withdraw…").click()
        page.get_by_role("button", name="Withdraw the piece").click()  # browser-side required
        assert "/withdraw" in page.url
        page.get_by_label("Reason").fill("Legal request")
        page.get_by_role("button", name="Withdraw the piece").click()
        expect(page.locator("#confirm-error")).to_be_visible()
        assert page.get_by_label("Reason").input_value() == "Legal request"
        page.get_by_label("I confirm: withdraw this piece everywhere").check()
        page.get_by_role("button", name="Withdraw the piece").click()
        expect(page.get_by_text("Piece withdrawn everywhere.")).to_be_visible()
        expect(page.get_by_text("withdrawn on")).to_be_visible()

    def test_entitlement_view_explains_a_refusal(self, page: Any, live_server: LiveServer) -> None:
        now = datetime.now(UTC)
        _seed_more(live_server, now)
        page.goto("/staff/partners/")
        page.get_by_role("row", name=re.compile("Corner Weekly")).get_by_role(
            "link", name="why (not)?"
        ).click()
        table = page.locator("table.entitlements")
        refused = table.get_by_role("row", name=re.compile(HEADLINE))
        assert "audience 5,000 is below this license's minimum of 100,000" in refused.inner_text()
        soon = table.get_by_role("row", name=re.compile("Ferry timetable"))
        assert "embargoed until" in soon.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "entitlement.png"), full_page=True)

    def test_every_field_has_a_label(self, page: Any) -> None:
        unlabelled_js = """() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')]
            .filter(el => el.labels.length === 0).map(el => el.name || el.id)"""
        for path in ("/staff/pieces/new", f"/staff/pieces/{SLUG}", "/staff/pieces/",
                     "/staff/licenses/new", "/staff/partners/new", "/staff/partners/gazette/edit",
                     "/staff/pieces/market-day/withdraw"):  # fmt: skip
            page.goto(path)
            assert page.evaluate(unlabelled_js) == [], path

    def test_the_forms_work_without_javascript(self, browser: Any, live_server: LiveServer) -> None:
        context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
        page = context.new_page()
        page.goto("/staff/login")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        page.goto("/staff/partners/gazette")
        page.get_by_role("button", name="Issue a new key").click()
        assert page.locator("#new-key").input_value().startswith("synp_")
        assert page.get_by_role("button", name="Copy").count() == 0  # hidden without script
        context.close()


def _seed_more(live_server: LiveServer, now: datetime) -> None:
    """A small partner, a second license and two more pieces, for a telling entitlement view."""
    from syndication.articles.models import ArticleCreate
    from syndication.articles.service import create_article

    def piece(slug: str, headline: str, **over: Any) -> ArticleCreate:
        body = {
            "slug": slug, "headline": headline, "body_html": "<p>Text.</p>", "section": "city",
            "canonical_url": f"https://news.example.org/2026/{slug}",
            "copyright_holder": "The Example News Foundation", "license": "open-short",
            "published_at": now - timedelta(hours=2), **over,
        }  # fmt: skip
        return ArticleCreate.model_validate(body)

    with session_scope(live_server.app.state.engine) as session:
        create_license(session, LicenseCreate(
            code="open-short", name="Open, for a week", url="https://news.example.org/open",
            credit_line="By {{ holder }}.", contact_email="licensing@example.org", window_days=7,
        ))  # fmt: skip
        create_partner(session, PartnerCreate(
            slug="corner", name="The Corner Weekly", audience=5_000,
            licenses=["free-eligible", "open-short"],
        ))  # fmt: skip
        create_article(session, piece("ferry-timetable", "Ferry timetable changes",
                                      embargo_until=now + timedelta(hours=3)))  # fmt: skip
        create_article(session, piece("market-day", "Market day moves to Saturday"))
