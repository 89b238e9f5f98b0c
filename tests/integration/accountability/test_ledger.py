"""The delivery ledger: once per (partner, piece, revision), with the exact HTML's hash."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import text

from syndication.accountability.ledger import record_deliveries, related_pages, sha256_of
from syndication.app import create_app
from syndication.db import open_session
from syndication.partners.service import get_partner
from syndication.republish.access import load_for_partner, view_for
from syndication.republish.render import render_fragment
from syndication.staff.insight import preview
from syndication.usage.service import Usage, record
from tests.conftest import BASE_URL

from .conftest import World


def test_once_per_partner_piece_revision(world: World) -> None:
    world.piece()
    world.partner()
    first, html = world.rendered("gazette", "council-budget")
    later = dataclasses.replace(first, at=first.at + timedelta(hours=1))
    record_deliveries(world.engine, [later, first])  # a batch may repeat a key
    record_deliveries(world.engine, [later])  # and a later pull repeats it again

    rows = world.client.get("/api/v1/articles/council-budget/deliveries", headers=world.headers)
    assert rows.status_code == 200
    [row] = rows.json()
    assert row["partner"] == "gazette"
    assert row["revision"] == 1 and row["current_revision"] == 1
    assert row["html_sha256"] == sha256_of(html)
    assert row["license_code"] == "free-eligible"
    assert row["credit_line"].startswith("Content created by The Example News Foundation")
    assert row["delivered_at"].startswith("2026-11-26T12:00:00")  # the first time, not later


def test_new_revision_is_a_new_row_and_partner_view(world: World) -> None:
    world.piece()
    world.piece("other-piece")
    world.partner()
    world.partner("herald")
    world.deliver("gazette", "council-budget")
    world.client.post(
        "/api/v1/articles/council-budget/corrections", json={"text": "Fixed."},
        headers=world.headers,
    )  # fmt: skip
    world.deliver("gazette", "council-budget")
    world.deliver("herald", "other-piece")

    held = world.client.get("/api/v1/articles/council-budget/deliveries", headers=world.headers)
    assert sorted((r["partner"], r["revision"]) for r in held.json()) == [
        ("gazette", 1),
        ("gazette", 2),
    ]
    mine = world.client.get("/api/v1/partners/herald/deliveries", headers=world.headers).json()
    assert [(r["article"], r["revision"]) for r in mine] == [("other-piece", 1)]
    page = world.client.get(
        "/api/v1/partners/gazette/deliveries?limit=1&offset=1", headers=world.headers
    )
    assert [(r["article"], r["revision"]) for r in page.json()] == [("council-budget", 1)]
    bad = world.client.get("/api/v1/partners/gazette/deliveries?limit=0", headers=world.headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "limit"


def test_unknown_names_and_staff_only(world: World) -> None:
    missing = world.client.get("/api/v1/articles/nope/deliveries", headers=world.headers)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "slug"
    gone = world.client.get("/api/v1/partners/nope/deliveries", headers=world.headers)
    assert gone.status_code == 404
    assert world.client.get("/api/v1/partners/nope/deliveries").status_code == 401


def _related_html(world: World, partner: str) -> str:
    with open_session(world.engine, write=False) as session:
        who = get_partner(session, partner)
        article, license, decision = load_for_partner(session, who, "follow-up", world.clock())
        assert who.id is not None
        pages = related_pages(session, who.id, [r["url"] for r in article.related], upto=None)
        return render_fragment(view_for(world.settings, who, article, license, decision, pages))


def test_related_links_follow_the_partner(world: World) -> None:
    earlier = world.piece("earlier")
    world.piece(
        "follow-up",
        related=[{"title": "Earlier", "url": earlier["canonical_url"]}],
    )
    gazette = world.partner()
    herald = world.partner("herald")
    world.deliver("gazette", "earlier")
    world.deliver("herald", "earlier")  # holds it, but no pixel showed it anywhere
    with open_session(world.engine, write=False) as session:
        ids = {p: get_partner(session, p).id for p in ("gazette", "herald")}
        earlier_id = load_for_partner(
            session, get_partner(session, "gazette"), "earlier", world.clock()
        )[0].id
    page = "https://gazette.example.com/news/earlier-copy"
    now, old = world.clock(), "https://gazette.example.com/old"
    record(world.engine, [
        Usage("pixel_hit", ids["gazette"], now, earlier_id, page=old),
        Usage("pixel_hit", ids["gazette"], now + timedelta(minutes=5), earlier_id, page=page),
        Usage("pixel_hit", ids["herald"], now, earlier_id, page=None),
    ])  # fmt: skip

    assert f'<a href="{page}">Earlier</a>' in _related_html(world, gazette["slug"])
    herald_html = _related_html(world, herald["slug"])
    assert f'<a href="{earlier["canonical_url"]}">Earlier</a>' in herald_html


def test_related_link_needs_the_ledger_too(world: World) -> None:
    """A pixel hit alone (no delivery recorded) does not move the link."""
    earlier = world.piece("earlier")
    world.piece("follow-up", related=[{"title": "Earlier", "url": earlier["canonical_url"]}])
    world.partner()
    with open_session(world.engine, write=False) as session:
        who = get_partner(session, "gazette")
        earlier_id = load_for_partner(session, who, "earlier", world.clock())[0].id
    assert who.id is not None
    record(world.engine, [Usage("pixel_hit", who.id, world.clock(), earlier_id,
                                page="https://gazette.example.com/copy")])  # fmt: skip
    assert f'<a href="{earlier["canonical_url"]}">Earlier</a>' in _related_html(world, "gazette")


def test_a_pixel_hit_moves_related_links_at_the_next_catalog_write(world: World) -> None:
    """Feeds, bundles and the staff preview show the partner's page for a related piece as the
    catalog's version has it. A pixel hit changes nothing until the next catalog write, in any
    worker: one that renders afresh answers the cached bytes and the same bundle ETag. After
    the write both move everywhere, and the bundle's ETag with them."""
    earlier = world.piece("earlier")
    world.piece("follow-up", related=[{"title": "Earlier", "url": earlier["canonical_url"]}])
    world.partner()
    world.deliver("gazette", "earlier")
    headers = world.partner_headers("gazette")

    def pulled(client: TestClient, **extra: str) -> tuple[str, dict[str, str], str]:
        feed = client.get("/feeds/feed.json", headers=headers)
        [item] = [i for i in feed.json()["items"] if 'data-slug="follow-up"' in i["content_html"]]
        bundle = client.get("/bundles/follow-up.html", headers={**headers, **extra})
        return item["content_html"], dict(bundle.headers), bundle.text

    ours = f'<a href="{earlier["canonical_url"]}">Earlier</a>'
    item, bundle_headers, bundle = pulled(world.client)
    assert ours in item and ours in bundle
    with open_session(world.engine, write=False) as session:
        gazette = get_partner(session, "gazette")
    assert gazette.id is not None
    page = "https://gazette.example.com/news/earlier-copy"
    hit = Usage("pixel_hit", gazette.id, world.clock(), world.piece_id("earlier"), page=page)
    record(world.engine, [hit])
    theirs = f'<a href="{page}">Earlier</a>'

    def previewed() -> str:
        with open_session(world.engine, write=False) as session:
            article, _, _ = load_for_partner(session, gazette, "follow-up", world.clock())
            return preview(session, world.settings, article, gazette, world.clock()).html

    fresh = create_app(world.settings, clock=world.clock)  # another worker: nothing cached
    with TestClient(fresh, base_url=BASE_URL) as other:
        for client in (world.client, other):
            assert pulled(client) == (item, bundle_headers, bundle)
        assert ours in previewed()
        world.piece("another")  # any catalog write
        for client in (world.client, other):
            moved_item, moved_headers, moved = pulled(
                client, **{"If-None-Match": bundle_headers["etag"]}
            )
            assert theirs in moved_item and ours not in moved_item
            assert theirs in moved and ours not in moved
            assert moved_headers["etag"] != bundle_headers["etag"]
    assert theirs in previewed()


def _next_ids_from(world: World, first: int) -> None:
    """The next delivery and usage event get `first` as their id, as after years of traffic."""
    with world.engine.begin() as conn:
        if world.engine.dialect.name == "postgresql":
            for table in ("delivery", "usage_event"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :v)"),
                    {"v": first - 1},
                )
            return
        # SQLite: the next rowid is one more than the largest; rows that make it so.
        partner = conn.execute(text("SELECT min(id) FROM partner")).scalar_one()
        article = conn.execute(text("SELECT min(id) FROM article")).scalar_one()
        conn.execute(text(
            "INSERT INTO usage_event (id, kind, partner_id, at, times)"
            " VALUES (:id, 'feed_pull', :p, '2026-01-01 00:00:00', 1)"
        ), {"id": first - 1, "p": partner})  # fmt: skip
        conn.execute(text(
            "INSERT INTO delivery (id, partner_id, article_id, revision, html_sha256,"
            " license_code, credit_line, delivered_at)"
            " VALUES (:id, :p, :a, 0, '', '', '', '2026-01-01 00:00:00')"
        ), {"id": first - 1, "p": partner, "a": article})  # fmt: skip


def test_event_ids_run_past_32_bits(world: World) -> None:
    """Deliveries and usage events grow with traffic, and on PostgreSQL the ledger's INSERT
    ... ON CONFLICT DO NOTHING draws an id for each of a render's ~50 rows, recorded before or
    not. Past 2^31 - 1 the ledger, the usage counts and the related links that follow pixel
    hits all keep working (a 32-bit sequence stopped every write there)."""
    earlier = world.piece("earlier")
    world.piece("follow-up", related=[{"title": "Earlier", "url": earlier["canonical_url"]}])
    world.partner()
    headers = world.partner_headers("gazette")
    past = 2**31
    _next_ids_from(world, past)
    world.deliver("gazette", "earlier")
    with open_session(world.engine, write=False) as session:
        gazette = get_partner(session, "gazette")
    assert gazette.id is not None
    page = "https://gazette.example.com/news/earlier-copy"
    record(
        world.engine,
        [Usage("pixel_hit", gazette.id, world.clock(), world.piece_id("earlier"), page=page)],
    )
    world.piece("another")  # a catalog write: related links now follow the hit, id > 2^31
    feed = world.client.get("/feeds/feed.json", headers=headers)
    assert feed.status_code == 200, feed.text
    [item] = [i for i in feed.json()["items"] if 'data-slug="follow-up"' in i["content_html"]]
    assert f'<a href="{page}">Earlier</a>' in item["content_html"]
    with world.engine.connect() as conn:
        for table in ("delivery", "usage_event"):
            ids = conn.execute(text(f"SELECT id FROM {table} WHERE id >= :v"), {"v": past})
            assert ids.scalars().all(), table
        upto = conn.execute(text("SELECT usage_upto FROM catalog_state")).scalar_one()
    assert upto >= past


def test_the_ledger_hashes_exactly_what_was_delivered(world: World) -> None:
    """A feed pull and a bundle download each record the SHA-256 of the very HTML they handed
    out (hashed when the row is written, after the answer)."""
    world.piece()
    world.partner("gazette")
    world.partner("herald")
    feed = world.client.get("/feeds/feed.json", headers=world.partner_headers("gazette"))
    assert feed.status_code == 200
    [item] = feed.json()["items"]
    bundle = world.client.get(
        "/bundles/council-budget.html", headers=world.partner_headers("herald")
    )
    assert bundle.status_code == 200

    rows = world.client.get("/api/v1/articles/council-budget/deliveries", headers=world.headers)
    found = {row["partner"]: row["html_sha256"] for row in rows.json()}
    assert found == {
        "gazette": hashlib.sha256(item["content_html"].encode()).hexdigest(),
        "herald": hashlib.sha256(bundle.content).hexdigest(),
    }


def test_of_two_pages_the_one_first_seen_last_is_the_link(world: World) -> None:
    """A partner that moved a piece to a new address gets the new one; later views of the old
    page do not move the link back (the choice rests on first hits, fixed once the catalog's
    version covers them, so every worker renders a version alike)."""
    earlier = world.piece("earlier")
    world.piece("follow-up", related=[{"title": "Earlier", "url": earlier["canonical_url"]}])
    world.partner()
    world.deliver("gazette", "earlier")
    with open_session(world.engine, write=False) as session:
        gazette = get_partner(session, "gazette").id
    assert gazette is not None
    old, new = "https://gazette.example.com/old", "https://gazette.example.com/new"
    now, piece = world.clock(), world.piece_id("earlier")
    record(world.engine, [Usage("pixel_hit", gazette, now, piece, page=old)])
    record(world.engine, [Usage("pixel_hit", gazette, now, piece, page=new)])
    assert f'<a href="{new}">Earlier</a>' in _related_html(world, "gazette")
    later = now + timedelta(hours=1)
    record(world.engine, [Usage("pixel_hit", gazette, later, piece, page=old)])
    assert f'<a href="{new}">Earlier</a>' in _related_html(world, "gazette")
