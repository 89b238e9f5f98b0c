"""The bundle renderers with plain values: ninjs, head, LICENSE.txt, manifest and the zip."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace as NS

import pytest
from lxml import html as lxml_html

from syndication.bundles.render import (
    RENDERERS,
    assemble_zip,
    bundle_files,
    ninjs,
    render_head,
    render_license_txt,
    render_zip,
    zip_time,
)
from syndication.bundles.view import BundleView, build_bundle
from syndication.republish.view import build_view
from tests.ninjs import ninjs_errors

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REVISED = datetime(2026, 11, 26, 10, 30, 15, tzinfo=UTC)


def _article(**over: object) -> NS:
    base = dict(
        id=7, created_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), slug="budget", revision=3,
        headline="Budget passes", byline="Ana Example", summary="The council voted.",
        section="politics", body_html="<p>Body &amp; more</p>", tags=["budget", "council"],
        published_at=datetime(2026, 11, 26, 8, 0, tzinfo=UTC), updated_at=REVISED,
        canonical_url="https://news.example.org/budget", copyright_holder="Example News",
        source_credits=[{"name": "Politico", "url": "https://p.example.com/"}, {"name": "Files"}],
        related=[{"title": "Earlier", "url": "https://news.example.org/earlier"}],
        images=[
            {"url": "https://news.example.org/i.jpg", "caption": "The hall", "credit": "Photo: A",
             "syndicate": True},
            {"url": "https://news.example.org/no.jpg", "caption": "No", "credit": "Agency",
             "syndicate": False},
        ],
        corrections=[{"at": "2026-11-26T10:30:15+00:00", "text": "Fixed the vote count."}],
        status="published",
    )  # fmt: skip
    return NS(**{**base, **over})


def _license(**over: object) -> NS:
    base = dict(
        code="free-eligible", name="Free & eligible", url="https://news.example.org/license",
        summary="Free for large publishers.", terms="Republish unaltered.",
        contact_email="licensing@example.org", credit_line="Content by {{ holder }}.",
        credit_placement="bottom", requires_canonical=True, requires_pixel=True,
        allows_modification=False, allows_commercial=False, window_days=None,
    )  # fmt: skip
    return NS(**{**base, **over})


def _bundle(article: NS | None = None, license: NS | None = None, **kw: object) -> BundleView:
    article = article or _article()
    license = license or _license()
    piece = build_view(
        article,
        license,
        NS(slug="gazette", name="The Gazette"),
        authority="news.example.org",
        embargoed_until=kw.get("embargo"),  # type: ignore[arg-type]
        pixel_url="https://news.example.org/px/tok.gif",
    )
    return build_bundle(piece, article, license)


def test_ninjs_is_valid_and_complete() -> None:
    view = _bundle()
    item = ninjs(view, "<article>fragment</article>")
    assert ninjs_errors(item) == []
    assert item["uri"] == "tag:news.example.org,2026-11-25:piece:7"
    assert (item["type"], item["representationtype"], item["version"]) == ("text", "full", "3")
    assert item["versioncreated"] == "2026-11-26T10:30:15Z"
    assert item["firstcreated"] == "2026-11-25T09:00:00Z"
    assert item["pubstatus"] == "usable" and "embargoed" not in item
    assert item["headlines"][0]["value"] == "Budget passes" and item["by"] == "Ana Example"
    body = {"role": "republication", "contenttype": "text/html"}
    assert item["bodies"] == [{**body, "value": "<article>fragment</article>"}]
    assert item["descriptions"][0]["value"] == "The council voted."
    assert item["copyrightholder"] == "Example News"
    assert item["usageterms"].startswith("Content by Example News.")
    assert "Not allowed: Editing" in item["usageterms"]
    assert item["rightsinfo"] == {"linkedrights": "https://news.example.org/license"}
    assert item["infosources"] == [
        {"name": "Politico", "uri": "https://p.example.com/"},
        {"name": "Files"},
    ]
    assert {(s["rel"], s["name"]) for s in item["subjects"]} == {
        ("section", "politics"), ("tag", "budget"), ("tag", "council")
    }  # fmt: skip
    assert item["altids"] == [{"role": "canonical", "value": "https://news.example.org/budget"}]
    pictures = [a for a in item["associations"] if a["type"] == "picture"]
    assert [(p["by"], p["renditions"][0]["href"]) for p in pictures] == [
        ("Photo: A", "https://news.example.org/i.jpg")
    ]
    assert pictures[0]["descriptions"][0]["value"] == "The hall"
    texts = [a for a in item["associations"] if a["type"] == "text"]
    assert [(t["uri"], t["headlines"][0]["value"]) for t in texts] == [
        ("https://news.example.org/earlier", "Earlier")
    ]


def test_ninjs_embargo_and_withdrawal() -> None:
    embargoed = ninjs(_bundle(embargo=NOW), "x")
    assert embargoed["embargoed"] == "2026-11-26T12:00:00Z" and ninjs_errors(embargoed) == []
    canceled = ninjs(_bundle(_article(status="withdrawn", byline="", summary="")), "x")
    assert canceled["pubstatus"] == "canceled" and ninjs_errors(canceled) == []
    assert "by" not in canceled and "descriptions" not in canceled


def test_the_validator_checks_formats() -> None:
    item = ninjs(_bundle(), "x")
    assert ninjs_errors({**item, "uri": "not a uri"})
    assert ninjs_errors({**item, "versioncreated": "yesterday"})
    assert ninjs_errors({**item, "associations": [{"type": "picture"}]})


def test_head_links() -> None:
    tree = lxml_html.fromstring(f"<html><head>{render_head(_bundle())}</head></html>")
    assert tree.xpath("//link[@rel='canonical']/@href") == ["https://news.example.org/budget"]
    assert tree.xpath("//link[@rel='license']/@href") == ["https://news.example.org/license"]
    assert "<head>" in render_head(_bundle())  # the comment says where it goes


def test_license_txt_follows_the_flags() -> None:
    strict = render_license_txt(_bundle())
    for text in ("Free & eligible", "https://news.example.org/license", "Free for large",
                 "Republish unaltered.", "licensing@example.org", "Content by Example News.",
                 "tracking pixel", 'rel="canonical"', "at the bottom"):  # fmt: skip
        assert text in strict
    assert strict.index("Not allowed") < strict.index("Editing") < strict.index("Required")
    loose = render_license_txt(
        _bundle(license=_license(allows_modification=True, allows_commercial=True,
                                 requires_pixel=False, requires_canonical=False,
                                 window_days=30, credit_placement="both"))
    )  # fmt: skip
    assert loose.index("Editing") < loose.index("Not allowed")
    assert "tracking pixel" not in loose and 'rel="canonical"' not in loose
    assert "within 30 days" in loose and "2026-12-26T08:00:00Z" in loose
    assert "at the top and the bottom" in loose


def test_manifest_hashes_every_other_file() -> None:
    files = bundle_files(_bundle())
    assert list(files) == ["article.html", "head.html", "article.json", "LICENSE.txt",
                           "manifest.json"]  # fmt: skip
    manifest = json.loads(files["manifest.json"])
    assert {k: manifest[k] for k in ("piece", "revision", "partner", "license")} == {
        "piece": "budget", "revision": 3, "partner": "gazette", "license": "free-eligible"
    }  # fmt: skip
    assert manifest["revision_time"] == "2026-11-26T10:30:15Z" and manifest["format_version"] == 1
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert entry["size"] == len(files[name])


def test_zip_is_deterministic_and_dated_by_the_revision() -> None:
    first = render_zip(_bundle())
    assert render_zip(_bundle()) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 11, 26, 10, 30, 14)}
        assert archive.read("article.json") == bundle_files(_bundle())["article.json"]
    changed = _bundle(_article(revision=4, updated_at=NOW))
    assert render_zip(changed) != first


def test_zip_time_is_clamped_to_what_zip_can_hold() -> None:
    assert zip_time(datetime(1970, 1, 1, tzinfo=UTC)) == (1980, 1, 1, 0, 0, 0)
    assert zip_time(datetime(2200, 1, 1, tzinfo=UTC))[0] == 2107
    old = assemble_zip({"a": b"x"}, datetime(1970, 1, 1, tzinfo=UTC))
    assert zipfile.ZipFile(io.BytesIO(old)).read("a") == b"x"


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_each_format_renders_bytes(fmt: str) -> None:
    media_type, render = RENDERERS[fmt]
    body = render(_bundle())
    assert isinstance(body, bytes) and body
    assert media_type.split(";")[0] in {"application/zip", "text/html", "application/json"}


def test_placement_follows_the_license() -> None:
    view = _bundle(license=_license(credit_placement="top"))
    html = bundle_files(view)["article.html"].decode()
    assert html.index("Content by Example News.") < html.index("<h1>")
