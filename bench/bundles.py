"""Bundles per second for a piece with a 20 KB body, in-process, against a baseline.

    .venv/bin/python -m bench.bundles [--seconds 3]

Three figures, all measured in this run:
  baseline  a plain zip of the very same five files, same deflate level (what any bundle costs)
  render    the pure path: typed view -> fragment, head, ninjs, LICENSE, manifest -> zip
  http      GET /bundles/{slug}.zip through the whole app (partner key, entitlement, SQLite,
            the usage event written after the answer)
The target is at least 200 bundles/s over HTTP.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace as NS

from litestar.testing import TestClient

from bench import seed
from syndication import migrate
from syndication.app import create_app
from syndication.articles.models import ArticleCreate
from syndication.articles.service import create_article
from syndication.bundles.render import ZIP_LEVEL, bundle_files, render_zip
from syndication.bundles.view import build_bundle
from syndication.db import session_scope
from syndication.licensing.models import LicenseCreate
from syndication.licensing.service import create_license
from syndication.partners.models import PartnerCreate
from syndication.partners.service import create_partner, issue_key
from syndication.republish.view import build_view
from syndication.settings import Settings

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
TARGET = 200.0


def body_20kb() -> str:
    """About 20 KB of varied paragraphs (a repeated one would flatter deflate)."""
    return seed.body(random.Random(4), 20_000)


LICENSE = dict(
    code="free-eligible", name="Free for eligible publishers",
    url="https://news.example.org/republish", summary="Free for large publishers.",
    terms="Republish unaltered. " * 40, contact_email="licensing@example.org",
    credit_line="Content created by {{ holder }} is available without charge to "
    "{{ partner_name }}. Contact {{ contact_email }}.",
    min_audience=10_000, requires_pixel=True, credit_placement="both",
)  # fmt: skip
ARTICLE = dict(
    slug="council-budget", headline="Council approves the budget", summary="7-2.",
    body_html=body_20kb(), byline="Ana Example", section="politics", tags=["budget", "council"],
    canonical_url="https://news.example.org/2026/council-budget",
    copyright_holder="The Example News Foundation", published_at=NOW.replace(hour=8),
    license="free-eligible",
    source_credits=[{"name": "Politico", "url": "https://www.politico.com/"}],
    related=[{"title": f"Earlier {n}", "url": f"https://news.example.org/{n}"} for n in range(5)],
    images=[{"url": f"https://news.example.org/{n}.jpg", "caption": f"Caption {n}",
             "credit": "Photo: A"} for n in range(3)],
)  # fmt: skip


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()  # warm caches (templates, statements) before timing
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def plain_view():  # type: ignore[no-untyped-def]
    article = NS(
        **{**ARTICLE, "images": [{**i, "syndicate": True} for i in ARTICLE["images"]]},
        id=1, created_at=NOW, revision=1, updated_at=NOW, corrections=[], status="published",
    )  # fmt: skip
    license = NS(**LICENSE, allows_modification=False, allows_commercial=False,
                 requires_canonical=True, window_days=None)  # fmt: skip
    partner = NS(slug="gazette", name="The Partner Gazette")
    piece = build_view(
        article, license, partner, authority="news.example.org", embargoed_until=None,
        pixel_url="https://news.example.org/px/token.gif",
    )  # fmt: skip
    return build_bundle(piece, article, license)


def plain_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def http_client(directory: Path) -> tuple[TestClient, str]:
    settings = Settings(
        database_url=f"sqlite:///{directory / 'bench.db'}",
        base_url="http://bench.local",
        secret_key="bench-secret",
    )
    migrate.upgrade(settings)
    app = create_app(settings, clock=lambda: NOW)
    with session_scope(app.state.engine) as session:
        create_license(session, LicenseCreate.model_validate(LICENSE))
        create_partner(
            session,
            PartnerCreate(
                slug="gazette",
                name="The Partner Gazette",
                audience=250_000,
                licenses=["free-eligible"],
            ),
        )
        key = issue_key(session, "gazette").key
        create_article(session, ArticleCreate.model_validate(ARTICLE))
    return TestClient(app, base_url="http://bench.local"), key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    seconds = parser.parse_args().seconds

    view = plain_view()
    files = bundle_files(view)
    body = len(ARTICLE["body_html"].encode())  # type: ignore[union-attr]
    size = len(render_zip(view))
    print(f"piece: body {body:,} bytes; bundle {size:,} bytes zipped ({len(files)} files)")

    baseline = rate(lambda: plain_zip(files), seconds)
    render = rate(lambda: render_zip(plain_view()), seconds)
    with tempfile.TemporaryDirectory() as tmp:
        client, key = http_client(Path(tmp))
        headers = {"Authorization": f"Bearer {key}"}
        with client:
            response = client.get("/bundles/council-budget.zip", headers=headers)
            assert response.status_code == 200, response.text
            http = rate(lambda: client.get("/bundles/council-budget.zip", headers=headers), seconds)

    print(f"baseline (plain zip, same bytes, deflate {ZIP_LEVEL}): {baseline:8.1f} /s")
    print(f"render   (view -> five files -> zip):      {render:8.1f} /s  "
          f"ratio {render / baseline:.2f} of baseline")  # fmt: skip
    print(f"http     (GET /bundles/{{slug}}.zip):        {http:8.1f} /s  "
          f"ratio {http / baseline:.2f} of baseline")  # fmt: skip
    verdict = "meets" if http >= TARGET else "MISSES"
    print(f"target {TARGET:.0f} bundles/s over HTTP: {verdict}")


if __name__ == "__main__":
    main()
