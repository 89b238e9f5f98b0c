"""`/api/v1/usage`: totals, events and pages, filtered; bad filters name the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient

from syndication.usage.service import Usage, record
from tests.conftest import Clock
from tests.integration.syndicated import Syndicated, syndicated

PAGE = "https://gazette.example.com/a"


@pytest.fixture
def s(client: TestClient, staff_headers: dict, clock: Clock, engine) -> Syndicated:  # type: ignore[no-untyped-def]
    """12:00 gazette zip of budget; 13:00 courier json of budget and gazette html of
    roads; 14:00 gazette html of budget and its pixel hit; 15:00 a feed pull (no piece)."""
    setup = syndicated(client, staff_headers)
    setup.piece("budget")
    setup.piece("roads")
    courier = setup.partner("courier")
    setup.get("/bundles/budget.zip")
    clock.advance(hours=1)
    setup.get("/bundles/budget.json", key=courier)
    html = setup.get("/bundles/roads.html").text
    clock.advance(hours=1)
    budget_html = setup.get("/bundles/budget.html").text
    pixel = budget_html.split('class="syndication-pixel" src="')[1].split('"')[0]
    client.get(pixel.removeprefix("http://testserver.local"), headers={"Referer": PAGE})
    record(engine, [Usage("feed_pull", 1, datetime(2026, 11, 26, 15, tzinfo=UTC))])
    assert "roads" in html
    return setup


def _counts(items: list[dict]) -> dict[str, int]:
    return {c["key"]: c["count"] for c in items}


def test_totals_and_events(s: Syndicated) -> None:
    report = s.usage()
    totals = report["totals"]
    assert totals["events"] == 6
    assert _counts(totals["by_kind"]) == {"bundle_download": 4, "pixel_hit": 1, "feed_pull": 1}
    assert _counts(totals["by_partner"]) == {"gazette": 5, "courier": 1}
    assert _counts(totals["by_piece"]) == {"budget": 4, "roads": 1}
    events = report["events"]
    assert events["total"] == 6 and events["limit"] == 50
    assert [e["kind"] for e in events["items"]][:2] == ["feed_pull", "pixel_hit"]
    assert events["items"][0]["piece"] is None
    assert report["seen_on"] == [
        {"piece": "budget", "pages": [
            {"page": PAGE, "partner": "gazette", "count": 1, "last_seen": "2026-11-26T14:00:00Z"}
        ]}
    ]  # fmt: skip


def test_filters(s: Syndicated) -> None:
    courier = s.usage(partner="courier")
    assert courier["totals"]["events"] == 1
    assert courier["events"]["items"][0]["format"] == "json" and courier["seen_on"] == []
    roads = s.usage(piece="roads")
    assert [e["format"] for e in roads["events"]["items"]] == ["html"]
    pixels = s.usage(kind="pixel_hit", partner="gazette", piece="budget")
    assert pixels["totals"]["events"] == 1 and len(pixels["seen_on"]) == 1
    window = s.usage(since="2026-11-26T13:00:00Z", until="2026-11-26T14:00:00+00:00")
    assert window["totals"]["events"] == 2
    shifted = s.usage(since="2026-11-26T15:00:00+01:00")
    assert shifted["totals"]["events"] == 3
    assert shifted["filters"]["since"] == "2026-11-26T14:00:00Z"
    assert s.usage(since="2026-11-26T15:00:00Z")["totals"]["events"] == 1
    assert s.usage(until="2026-11-26T12:00:00Z")["totals"]["events"] == 0
    assert s.usage(since="2026-11-26T14:00:00Z", kind="bundle_download")["seen_on"] == []


def test_paging(s: Syndicated) -> None:
    first = s.usage(limit=4)["events"]
    second = s.usage(limit=4, offset=4)["events"]
    assert (len(first["items"]), len(second["items"]), second["total"]) == (4, 2, 6)
    seen = [(e["kind"], e["at"], e["format"]) for e in first["items"] + second["items"]]
    assert len(set(seen)) == 6


BAD = [
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-11-26T12:00:00"}, "since"),  # no offset
    ({"until": "2026-11-26"}, "until"),
    ({"since": "2026-11-26T12:00:00Z", "until": "2026-11-26T11:00:00Z"}, "until"),
    ({"kind": "view"}, "kind"),
    ({"partner": "nobody"}, "partner"),
    ({"piece": "no-such-piece"}, "piece"),
    ({"limit": "0"}, "limit"),
    ({"offset": "-1"}, "offset"),
]


def test_bad_values_name_the_parameter_and_staff_only(
    client: TestClient, staff_headers: dict
) -> None:
    s = syndicated(client, staff_headers)
    for params, field in BAD:
        response = client.get("/api/v1/usage", params=params, headers=staff_headers)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["errors"][0]["field"] == field, params
    assert client.get("/api/v1/usage").status_code == 401
    assert client.get("/api/v1/usage", headers=s.as_partner()).status_code == 401
    assert client.get("/api/v1/usage", headers=staff_headers).status_code == 200


def test_a_row_of_pulls_counts_each_pull_and_pages_as_one(s: Syndicated, engine) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2026, 11, 26, 16, tzinfo=UTC)
    record(engine, [Usage("feed_pull", 1, at, format="atom", times=5)])
    report = s.usage(since="2026-11-26T16:00:00Z")
    assert report["totals"]["events"] == 5
    assert _counts(report["totals"]["by_kind"]) == {"feed_pull": 5}
    assert _counts(report["totals"]["by_partner"]) == {"gazette": 5}
    assert report["events"]["total"] == 1  # what the event list pages through: rows
    assert report["events"]["items"][0]["times"] == 5
    everything = s.usage()
    assert everything["totals"]["events"] == 11 and everything["events"]["total"] == 7
