"""Partner bundles over HTTP: the zip and each file in it, determinism, conditional GET."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from litestar.testing import TestClient
from lxml import html as lxml_html

from tests.conftest import BASE_URL, Clock
from tests.integration.syndicated import Syndicated, syndicated
from tests.ninjs import ninjs_errors

FILES = ["article.html", "head.html", "article.json", "LICENSE.txt", "manifest.json"]


@pytest.fixture
def s(client: TestClient, staff_headers: dict) -> Syndicated:
    setup = syndicated(client, staff_headers)
    setup.piece("council-budget")
    return setup


def _zip(response) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_zip_holds_every_file_rendered_for_the_partner(s: Syndicated) -> None:
    response = s.get("/bundles/council-budget.zip")
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == (
        'attachment; filename="council-budget-r1.zip"'
    )
    files = _zip(response)
    assert list(files) == FILES

    manifest = json.loads(files["manifest.json"])
    assert [f["name"] for f in manifest["files"]] == FILES[:-1]
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]
        assert len(files[entry["name"]]) == entry["size"]
    article = s.client.get("/api/v1/articles/council-budget", headers=s.staff).json()
    assert manifest["piece"] == "council-budget" and manifest["revision"] == 1
    assert manifest["partner"] == "gazette" and manifest["license"] == "free-eligible"
    assert manifest["revision_time"][:19] == article["updated_at"][:19]

    html = files["article.html"].decode()
    tree = lxml_html.fragment_fromstring(html)
    assert tree.xpath("string(//h1)") == "Council approves the budget"
    assert "By Ana Example" in html and "<strong>approved</strong>" in html
    assert tree.xpath("//p[@class='source-credits']/a/@href") == ["https://www.politico.com/"]
    assert tree.xpath("//figure/img/@src") == ["https://news.example.org/a.jpg"]
    assert "secret.jpg" not in html and "Agency" not in html
    assert tree.xpath("//p[@class='syndication-credit']/text()") == [
        "Content created by The Example News Foundation is available without charge. "
        "Contact licensing@example.org."
    ]
    assert tree.xpath("//p[@class='original']/a/@href") == [
        "https://news.example.org/2026/council-budget"
    ]
    pixel = tree.xpath("//img[@class='syndication-pixel']/@src")
    assert len(pixel) == 1 and pixel[0].startswith(f"{BASE_URL}/px/")

    head = lxml_html.fromstring(f"<html><head>{files['head.html'].decode()}</head></html>")
    assert head.xpath("//link[@rel='canonical']/@href") == [
        "https://news.example.org/2026/council-budget"
    ]
    assert head.xpath("//link[@rel='license']/@href") == ["https://news.example.org/republish"]

    item = json.loads(files["article.json"])
    assert ninjs_errors(item) == []
    assert item["bodies"][0]["value"] == html
    assert item["uri"].startswith("tag:testserver.local,") and item["version"] == "1"
    assert [a["renditions"][0]["href"] for a in item["associations"] if a["type"] == "picture"] == [
        "https://news.example.org/a.jpg"
    ]

    text = files["LICENSE.txt"].decode()
    parts = [
        "Free for eligible publishers",
        "https://news.example.org/republish",
        "Free for large publishers.",
        "Republish unaltered.",
        "licensing@example.org",
    ]
    assert all(part in text for part in parts)


def test_same_revision_same_bytes_and_revision_moves_it(s: Syndicated, clock: Clock) -> None:
    first = s.get("/bundles/council-budget.zip").content
    clock.advance(hours=3)
    assert s.get("/bundles/council-budget.zip").content == first
    assert s.get("/bundles/council-budget.zip", params={"key": s.key}).content == first
    fixed = s.client.post(
        "/api/v1/articles/council-budget/corrections", json={"text": "7-2, not 6-3."},
        headers=s.staff,
    )  # fmt: skip
    assert fixed.status_code == 201
    files = _zip(s.get("/bundles/council-budget.zip"))
    assert json.loads(files["manifest.json"])["revision"] == 2
    assert "7-2, not 6-3." in files["article.html"].decode()
    assert json.loads(files["article.json"])["version"] == "2"


def test_html_and_json_alone_match_the_zip(s: Syndicated) -> None:
    files = _zip(s.get("/bundles/council-budget.zip"))
    html = s.get("/bundles/council-budget.html")
    assert html.headers["content-type"].startswith("text/html")
    assert html.content == files["article.html"]
    ninjs = s.get("/bundles/council-budget.json")
    assert ninjs.headers["content-type"].startswith("application/json")
    assert ninjs.content == files["article.json"]
    assert "content-disposition" not in ninjs.headers


def test_other_partner_gets_its_own_credit_and_pixel(s: Syndicated) -> None:
    s.client.patch(
        "/api/v1/licenses/free-eligible",
        json={"credit_line": "Created by {{ holder }} for {{ partner_name }}."},
        headers=s.staff,
    )
    other = s.partner("courier", name="The Courier")
    mine = s.get("/bundles/council-budget.html").text
    theirs = s.get("/bundles/council-budget.html", key=other).text
    assert "for The Partner Gazette." in mine and "for The Courier." in theirs
    assert mine.split("/px/")[1] != theirs.split("/px/")[1]


def test_conditional_get(s: Syndicated) -> None:
    first = s.get("/bundles/council-budget.zip")
    etag = first.headers["etag"]
    assert s.get("/bundles/council-budget.json").headers["etag"] != etag
    again = s.get("/bundles/council-budget.zip", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert s.get("/bundles/council-budget.zip", headers={"If-None-Match": '"x"'}).status_code == 200
    s.client.patch("/api/v1/licenses/free-eligible", json={"terms": "New terms."}, headers=s.staff)
    changed = s.get("/bundles/council-budget.zip", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert b"New terms." in _zip(changed)["LICENSE.txt"]


def test_each_download_is_a_usage_event(s: Syndicated) -> None:
    s.get("/bundles/council-budget.zip")
    etag = s.get("/bundles/council-budget.json").headers["etag"]
    s.get("/bundles/council-budget.json", headers={"If-None-Match": etag})  # 304: not a download
    report = s.usage(kind="bundle_download")
    assert report["totals"]["events"] == 2
    assert sorted(e["format"] for e in report["events"]["items"]) == ["json", "zip"]
    assert {e["partner"] for e in report["events"]["items"]} == {"gazette"}
    assert report["events"]["items"][0]["at"].startswith("2026-11-26T12:00:00")


def test_openapi_names_each_media_type(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    bundle = paths["/bundles/{name}"]["get"]["responses"]
    assert set(bundle["200"]["content"]) == {"application/zip", "text/html", "application/json"}
    assert "304" in bundle
    assert set(paths["/px/{name}"]["get"]["responses"]["200"]["content"]) == {"image/gif"}
