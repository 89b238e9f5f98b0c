"""HTTP behaviour of the feeds: keys, bad parameters, conditional GET, caching, gzip, paging,
filters and usage records."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from isal import igzip
from litestar import Litestar
from litestar.background_tasks import BackgroundTasks
from litestar.testing import TestClient
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from syndication.db import session_scope
from syndication.feeds import serving
from syndication.usage.models import UsageEvent
from tests.conftest import BASE_URL
from tests.factories import article_body, create
from tests.integration.feeds_setup import World, build_world

ATOM = "/feeds/atom.xml"
JSON = "/feeds/feed.json"


@pytest.fixture
def world(client: TestClient, staff_headers: dict[str, str]) -> World:
    return build_world(client, staff_headers)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement.lower())

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@pytest.mark.parametrize("path", ["/feeds/rss.xml", ATOM, JSON])
def test_missing_or_wrong_key_is_401(client: TestClient, world: World, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer synp_nope_nope"}).status_code == 401
    assert client.get(path, params={"key": world.keys["gazette"] + "x"}).status_code == 401
    assert client.get(path, params={"key": world.keys["gazette"]}).status_code == 200


def test_revoked_key_is_refused_on_its_very_next_request(client: TestClient, world: World) -> None:
    key = world.keys["gazette"]
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200  # cached
    prefix = client.get("/api/v1/partners/gazette/keys", headers=world.staff).json()[0]["prefix"]
    assert key.startswith(prefix) or prefix in key
    revoked = client.delete(f"/api/v1/partners/gazette/keys/{prefix}", headers=world.staff)
    assert revoked.status_code in (200, 204), revoked.text
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 401


def test_inactive_partner_is_refused_at_once(client: TestClient, world: World) -> None:
    assert client.get(JSON, headers=world.auth("member")).status_code == 200
    client.patch("/api/v1/partners/member", json={"active": False}, headers=world.staff)
    assert client.get(JSON, headers=world.auth("member")).status_code == 401


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", "0"), ("limit", "101"), ("limit", "ten"), ("cursor", "@@@"),
     ("cursor", "eDox"), ("since", "yesterday"), ("since", "2026-11-26T10:00:00"),
     ("section", "")],
)  # fmt: skip
def test_bad_parameters_are_400_naming_them(
    client: TestClient, world: World, param: str, value: str
) -> None:
    response = client.get(ATOM, headers=world.auth("gazette"), params={param: value})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == param


def test_etag_last_modified_and_304(client: TestClient, world: World) -> None:
    first = client.get(ATOM, headers=world.auth("gazette"))
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    assert first.headers["cache-control"] == "public, no-cache"  # a CDN revalidates each time
    assert first.headers["vary"] == "Authorization, Accept-Encoding"
    again = client.get(ATOM, headers={**world.auth("gazette"), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    since = client.get(ATOM, headers={**world.auth("gazette"), "If-Modified-Since": modified})
    assert since.status_code == 304
    stale = client.get(ATOM, headers={**world.auth("gazette"), "If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.content == first.content
    # Another partner's ETag never matches: the feeds differ.
    other = client.get(ATOM, headers={**world.auth("trusted"), "If-None-Match": etag})
    assert other.status_code == 200


def test_cached_feed_and_304_skip_the_articles_table(
    client: TestClient, world: World, engine: Engine
) -> None:
    etag = client.get(ATOM, headers=world.auth("gazette")).headers["etag"]
    with statements(engine) as seen:
        assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
        answer = client.get(ATOM, headers={**world.auth("gazette"), "If-None-Match": etag})
        assert answer.status_code == 304
    assert not [s for s in seen if "article" in s], seen


def test_a_write_from_another_process_is_seen_on_the_next_request(
    client: TestClient, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    from syndication import catalog
    from syndication.articles.models import Article
    from syndication.db import make_engine

    before = client.get(JSON, headers=world.auth("gazette")).json()
    other = make_engine(settings)  # another worker or host: nothing shared in memory
    with session_scope(other) as session:
        article = session.scalars(select(Article).where(Article.slug == "council-budget")).one()
        article.headline = "Council approves the budget, again"
        catalog.bump(session)
    other.dispose()
    after = client.get(JSON, headers=world.auth("gazette")).json()
    assert before["items"][0]["title"] == "Council approves the budget"
    assert after["items"][0]["title"] == "Council approves the budget, again"


def test_gzip_is_computed_once_and_served_to_clients_that_accept_it(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = igzip.compress

    def counting(data: bytes, *args, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr("syndication.feeds.cache.igzip.compress", counting)
    plain = client.get(ATOM, headers={**world.auth("gazette"), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for _ in range(3):
        zipped = client.get(ATOM, headers={**world.auth("gazette"), "Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == plain.content  # the client decoded it
        assert zipped.headers["etag"] != plain.headers["etag"]
    assert len(calls) == 1
    refused = client.get(ATOM, headers={**world.auth("gazette"), "Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_paging_walks_every_piece_once(client: TestClient, world: World) -> None:
    for n in range(7):
        create(client, world.staff, "/api/v1/articles", article_body(
            f"piece-{n}", published_at=f"2026-11-2{n % 3}T0{n}:00:00+00:00"))  # fmt: skip
    seen: list[str] = []
    url: str | None = JSON + "?limit=3"
    pages = []
    while url:
        feed = client.get(url, headers=world.auth("gazette")).json()
        pages.append(feed)
        seen += [item["id"] for item in feed["items"]]
        url = feed.get("next_url")
    assert len(seen) == len(set(seen)) == 8  # 7 new + the council piece
    assert [len(p["items"]) for p in pages] == [3, 3, 2]
    assert all("key=" not in (p.get("next_url") or "") for p in pages)
    dates = [i["date_published"] for p in pages for i in p["items"]]
    assert dates == sorted(dates, reverse=True)
    # RFC 5005 in Atom: next and previous links with opaque cursors
    from lxml import etree

    ns = {"a": "http://www.w3.org/2005/Atom"}
    first = etree.fromstring(client.get(ATOM + "?limit=3", headers=world.auth("gazette")).content)
    (next_url,) = first.xpath("/a:feed/a:link[@rel='next']/@href", namespaces=ns)
    assert not first.xpath("/a:feed/a:link[@rel='previous']", namespaces=ns)
    second = etree.fromstring(client.get(next_url, headers=world.auth("gazette")).content)
    (previous,) = second.xpath("/a:feed/a:link[@rel='previous']/@href", namespaces=ns)
    back = etree.fromstring(client.get(previous, headers=world.auth("gazette")).content)
    ids = "/a:feed/a:entry/a:id/text()"
    assert back.xpath(ids, namespaces=ns) == first.xpath(ids, namespaces=ns)


def test_limit_defaults_to_50(client: TestClient, world: World) -> None:
    for n in range(55):
        create(client, world.staff, "/api/v1/articles", article_body(f"bulk-{n}"))
    feed = client.get(JSON, headers=world.auth("gazette")).json()
    assert len(feed["items"]) == 50 and "next_url" in feed
    assert len(client.get(JSON + "?limit=100", headers=world.auth("gazette")).json()["items"]) == 56


def test_section_and_since_filters(client: TestClient, world: World) -> None:
    create(client, world.staff, "/api/v1/articles", article_body("match", section="sport"))
    sport = client.get(JSON, headers=world.auth("gazette"), params={"section": "sport"}).json()
    assert [i["url"].rsplit("/", 1)[1] for i in sport["items"]] == ["match"]
    future = client.get(
        JSON, headers=world.auth("gazette"), params={"since": "2999-01-01T00:00:00Z"}
    )
    assert future.json()["items"] == []
    past = client.get(JSON, headers=world.auth("gazette"), params={"since": "2000-01-01T00:00:00Z"})
    assert len(past.json()["items"]) == 2


def test_every_pull_is_recorded(client: TestClient, world: World, engine: Engine) -> None:
    client.get(ATOM, headers=world.auth("gazette"))
    client.get(JSON, headers=world.auth("gazette"))
    etag = client.get(ATOM, headers=world.auth("gazette")).headers["etag"]
    client.get(ATOM, headers={**world.auth("gazette"), "If-None-Match": etag})
    client.__exit__(None, None, None)  # shutdown writes what is still buffered
    with session_scope(engine) as session:
        rows = session.execute(
            select(UsageEvent.kind, UsageEvent.format, UsageEvent.at, UsageEvent.times)
        ).all()
    # Pulls of one format within a second share a row that counts them.
    pulls: dict[str, int] = {}
    for r in rows:
        pulls[r.format] = pulls.get(r.format, 0) + r.times
    assert pulls == {"atom": 3, "json": 1}
    assert {r.kind for r in rows} == {"feed_pull"}
    assert all(r.at is not None and r.at.microsecond == 0 for r in rows)


def test_pulls_are_written_within_the_flush_interval_while_the_app_runs(
    app: Litestar, staff_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndication.feeds import runtime

    monkeypatch.setattr(runtime, "USAGE_FLUSH_SECONDS", 0.05)
    engine = app.state.engine
    with TestClient(app, base_url=BASE_URL) as client:
        world = build_world(client, staff_headers)
        for _ in range(3):  # no pull after these: the flusher alone writes them
            assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                written = sum(session.scalars(select(UsageEvent.times)).all())
            if written == 3:
                break
            time.sleep(0.05)
        assert written == 3


def test_json_feed_content_type(client: TestClient, world: World) -> None:
    response = client.get(JSON, headers=world.auth("gazette"))
    assert response.headers["content-type"].startswith("application/feed+json")
    json.loads(response.content)


def _slow_counted_fill(
    monkeypatch: pytest.MonkeyPatch, failing: list[bool] | None = None
) -> list[int]:
    """Replaces the render with one that counts its calls and takes 0.3 s (and fails while
    `failing` holds True)."""
    calls: list[int] = []
    real = serving.fill

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        time.sleep(0.3)
        if failing and failing[0]:
            raise RuntimeError("the render failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(serving, "fill", slow)
    return calls


def test_concurrent_misses_share_one_render(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _slow_counted_fill(monkeypatch)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: client.get(ATOM, headers=world.auth("gazette")), range(8))
        )
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.headers["etag"] for a in answers}) == 1
    assert len(calls) == 1
    create(client, world.staff, "/api/v1/articles", article_body("after-the-render"))
    assert b"after-the-render" in client.get(ATOM, headers=world.auth("gazette")).content
    assert len(calls) == 2  # a new catalog version is a new key: rendered again


def test_a_failed_shared_render_fails_its_waiters_and_the_next_pull_retries(
    app: Litestar, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = [True]
    calls = _slow_counted_fill(monkeypatch, failing)
    with TestClient(app, raise_server_exceptions=False) as quiet:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(
                pool.map(lambda _: quiet.get(ATOM, headers=world.auth("gazette")).status_code,
                         range(4))
            )  # fmt: skip
        assert statuses == [500] * 4
        assert len(calls) == 1
        failing[0] = False
        assert quiet.get(ATOM, headers=world.auth("gazette")).status_code == 200
        assert len(calls) == 2


def test_a_304_names_the_representation_the_client_holds(client: TestClient, world: World) -> None:
    """A client that kept the identity body and now accepts gzip gets a 304 with the identity
    ETag (a cache holds nothing under the gzip one), and no 304 carries Content-Encoding."""
    auth = world.auth("gazette")
    plain = client.get(ATOM, headers={**auth, "Accept-Encoding": "identity"})
    packed = client.get(ATOM, headers={**auth, "Accept-Encoding": "gzip"})
    assert packed.headers["etag"] == plain.headers["etag"].removesuffix('"') + '-gz"'
    for held in (plain, packed):
        for accept in ("identity", "gzip"):
            again = client.get(ATOM, headers={
                **auth, "Accept-Encoding": accept, "If-None-Match": held.headers["etag"]
            })  # fmt: skip
            assert again.status_code == 304
            assert again.headers["etag"] == held.headers["etag"], (held.headers, accept)
            assert "content-encoding" not in again.headers
            assert again.headers["last-modified"] == held.headers["last-modified"]
            assert again.headers["vary"] == held.headers["vary"]


def test_the_ledger_records_a_render_whose_answer_never_finished(
    client: TestClient, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger's rows of a cold render are written by a task of their own, not by the
    answer's background (which does not run when the client went away): cache hits hand out
    the same bytes and record nothing, so rows lost there were lost for good."""
    from syndication.accountability.models import DeliveryRecord

    class Never(BackgroundTasks):  # the answer's background does not run
        async def __call__(self) -> None:
            return None

    monkeypatch.setattr(serving, "BackgroundTasks", Never)
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200  # a cache hit
    client.__exit__(None, None, None)
    with session_scope(engine) as session:
        rows = session.scalars(select(DeliveryRecord)).all()
    assert rows


def test_a_render_the_ledger_could_not_record_is_not_served_from_the_cache(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its cache hits would hand out pieces the ledger never heard of: once the write has
    failed twice the copy goes, and the next pull renders again (and records)."""
    calls = _slow_counted_fill(monkeypatch)
    failing = [True]
    real = serving.record_deliveries

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failing[0]:
            raise RuntimeError("the ledger is down")
        return real(*args, **kwargs)

    monkeypatch.setattr(serving, "record_deliveries", record)
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
    failing[0] = False
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
    assert len(calls) == 2  # rendered again, not served from the cache
    assert client.get(ATOM, headers=world.auth("gazette")).status_code == 200
    assert len(calls) == 2  # recorded this time: now it is a cache hit


@pytest.mark.parametrize("path", ["/feeds/rss.xml", ATOM, JSON])
def test_head_answers_the_get_headers_without_a_body(
    client: TestClient, world: World, engine: Engine, path: str
) -> None:
    from syndication.accountability.models import DeliveryRecord

    assert client.head(path).status_code == 401
    head = client.head(path, headers=world.auth("gazette"))  # nothing cached yet: rendered
    assert head.status_code == 200 and head.content == b""
    with session_scope(engine) as session:  # a HEAD hands out no pieces
        assert session.scalars(select(DeliveryRecord)).all() == []
    get = client.get(path, headers=world.auth("gazette"))
    assert get.content
    names = ("etag", "last-modified", "cache-control", "vary", "content-type", "content-length")
    for name in (*names, "content-encoding"):  # the client asks for gzip by default
        assert head.headers[name] == get.headers[name], name
    plain = {**world.auth("gazette"), "Accept-Encoding": "identity"}
    assert int(client.head(path, headers=plain).headers["content-length"]) == len(get.content)
    again = client.head(path, headers=world.auth("gazette"))  # from the cache
    assert again.headers["etag"] == get.headers["etag"] and again.content == b""
    unchanged = client.head(
        path, headers={**world.auth("gazette"), "If-None-Match": get.headers["etag"]}
    )
    assert unchanged.status_code == 304
    client.__exit__(None, None, None)  # shutdown writes the buffered pulls
    with session_scope(engine) as session:
        assert sum(session.scalars(select(UsageEvent.times)).all()) == 1  # the GET alone
        assert session.scalars(select(DeliveryRecord)).all() != []  # the GET's render recorded
