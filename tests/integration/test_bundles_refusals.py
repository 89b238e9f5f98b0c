"""Bundle refusals that explain: 404 alike for unknown and not entitled, embargo, window,
withdrawal, keys."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import pytest
from litestar.testing import TestClient

from tests.conftest import Clock
from tests.factories import create, license_body
from tests.integration.syndicated import Syndicated, syndicated


@pytest.fixture
def s(client: TestClient, staff_headers: dict) -> Syndicated:
    setup = syndicated(client, staff_headers)
    setup.piece("council-budget")
    return setup


def _same_404(a, b, slug_a: str, slug_b: str) -> None:  # type: ignore[no-untyped-def]
    assert a.status_code == b.status_code == 404
    assert a.text.replace(slug_a, "X") == b.text.replace(slug_b, "X")
    assert a.headers.get("content-type") == b.headers.get("content-type")


def test_not_entitled_is_answered_like_unknown(s: Syndicated) -> None:
    create(s.client, s.staff, "/api/v1/licenses", license_body("members-only"))
    s.piece("members-piece", license="members-only")
    s.piece("opinion-piece", section="opinion")
    s.client.patch("/api/v1/partners/gazette", json={"sections": ["politics"]}, headers=s.staff)
    unknown = s.get("/bundles/nothing-here.zip")
    _same_404(s.get("/bundles/members-piece.zip"), unknown, "members-piece", "nothing-here")
    _same_404(s.get("/bundles/opinion-piece.json"), unknown, "opinion-piece", "nothing-here")
    assert s.get("/bundles/council-budget.pdf").status_code == 404
    assert s.get("/bundles/council-budget").status_code == 404
    assert s.usage()["totals"]["events"] == 0


def test_embargo_says_until_when(s: Syndicated, clock: Clock) -> None:
    s.piece("embargoed", embargo_until="2026-11-27T09:00:00+00:00")
    refused = s.get("/bundles/embargoed.zip")
    assert refused.status_code == 403
    assert refused.json()["reason"] == "embargoed"
    assert refused.json()["embargo_until"] == "2026-11-27T09:00:00+00:00"
    trusted = s.partner("wire", sees_embargoed=True)
    files = zipfile.ZipFile(BytesIO(s.get("/bundles/embargoed.zip", key=trusted).content))
    assert json.loads(files.read("article.json"))["embargoed"] == "2026-11-27T09:00:00Z"
    assert b"Embargoed until 27 November 2026, 09:00 UTC" in files.read("article.html")
    etag = s.get("/bundles/embargoed.html", key=trusted).headers["etag"]
    clock.advance(hours=21)  # the embargo lifts: same revision, but the note must go
    lifted = s.get("/bundles/embargoed.html", key=trusted, headers={"If-None-Match": etag})
    assert lifted.status_code == 200 and b"Embargoed" not in lifted.content
    assert s.get("/bundles/embargoed.html").status_code == 200


def test_closed_window_says_since_when(
    client: TestClient, staff_headers: dict, clock: Clock
) -> None:
    s = syndicated(client, staff_headers, window_days=7)
    s.piece("short-lived")
    assert s.get("/bundles/short-lived.html").status_code == 200
    clock.advance(days=8)
    refused = s.get("/bundles/short-lived.html")
    assert refused.status_code == 403 and refused.json()["reason"] == "expired"
    assert refused.json()["window_closed_at"] == "2026-12-03T08:00:00+00:00"


def test_withdrawn_is_gone_only_to_those_who_held_it(s: Syndicated) -> None:
    small = s.partner("tiny", audience=10)
    withdrawn = s.client.post(
        "/api/v1/articles/council-budget/withdraw", json={"reason": "Legal kill"}, headers=s.staff
    )
    assert withdrawn.status_code == 200
    gone = s.get("/bundles/council-budget.zip")
    assert gone.status_code == 410
    assert gone.json()["withdrawal_reason"] == "Legal kill" and gone.json()["withdrawn_at"]
    _same_404(
        s.get("/bundles/council-budget.zip", key=small),
        s.get("/bundles/nothing-here.zip", key=small),
        "council-budget",
        "nothing-here",
    )


def test_keys(s: Syndicated) -> None:
    assert s.client.get("/bundles/council-budget.zip").status_code == 401
    assert s.get("/bundles/council-budget.zip", key="synp_not-a-key").status_code == 401
    by_query = s.client.get("/bundles/council-budget.zip", params={"key": s.key})
    assert by_query.status_code == 200
    prefix = s.client.get("/api/v1/partners/gazette/keys", headers=s.staff).json()[0]["prefix"]
    revoke = s.client.delete(f"/api/v1/partners/gazette/keys/{prefix}", headers=s.staff)
    assert revoke.status_code == 204
    assert s.get("/bundles/council-budget.zip").status_code == 401
    assert s.get("/bundles/nothing-here.zip").status_code == 401
