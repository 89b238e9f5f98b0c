"""Partner answers through a simulated shared cache (a CDN in front): two partners' pulls of
the same URL never mix, every hit is revalidated with the origin, and a revoked key gets 401."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from litestar.testing import TestClient

from tests.factories import article_body, create
from tests.integration.feeds_setup import World, build_world

ATOM = "/feeds/atom.xml"


@dataclass
class Stored:
    headers: dict[str, str]
    body: bytes


@dataclass
class SharedCache:
    """Just what RFC 9111 asks of a shared cache here: store only what it may (`public` for an
    authorized request, never `private`), key by URL plus the Vary'd request headers, and
    revalidate a `no-cache` entry with If-None-Match before serving it."""

    client: TestClient
    entries: dict[tuple, Stored] = field(default_factory=dict)
    origin_statuses: list[int] = field(default_factory=list)

    def _key(self, url: str, headers: dict[str, str], vary: str) -> tuple:
        names = sorted(n.strip().lower() for n in vary.split(",") if n.strip())
        lowered = {k.lower(): v for k, v in headers.items()}
        return (url, tuple((n, lowered.get(n)) for n in names))

    def get(self, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        vary = next(
            (s.headers.get("vary", "") for (u, _), s in self.entries.items() if u == url), ""
        )
        key = self._key(url, headers, vary)
        stored = self.entries.get(key)
        ask = {**headers, "If-None-Match": stored.headers["etag"]} if stored else headers
        answer = self.client.get(url, headers=ask)
        self.origin_statuses.append(answer.status_code)
        if answer.status_code == 304 and stored is not None:
            return 200, stored.body
        if answer.status_code == 200 and self._storable(headers, answer.headers):
            stored_headers = dict(answer.headers)
            self.entries[self._key(url, headers, stored_headers.get("vary", ""))] = Stored(
                stored_headers, answer.content
            )
        return answer.status_code, answer.content

    @staticmethod
    def _storable(request: dict[str, str], response) -> bool:  # type: ignore[no-untyped-def]
        directives = {d.strip() for d in response.get("cache-control", "").split(",")}
        if "private" in directives or "no-store" in directives:
            return False
        authorized = any(k.lower() == "authorization" for k in request)
        return not authorized or "public" in directives


@pytest.fixture
def world(client: TestClient, staff_headers: dict[str, str]) -> World:
    return build_world(client, staff_headers)


def test_two_partners_never_get_each_others_feed(client: TestClient, world: World) -> None:
    cache = SharedCache(client)
    direct = {
        slug: client.get(ATOM, headers=world.auth(slug)).content for slug in ("gazette", "member")
    }
    assert direct["gazette"] != direct["member"]
    for _ in range(2):
        for slug in ("gazette", "member"):
            status, body = cache.get(ATOM, world.auth(slug))
            assert status == 200 and body == direct[slug]
    assert len(cache.entries) == 2
    assert cache.origin_statuses == [200, 200, 304, 304]  # stored, then revalidated each time


def test_a_revoked_key_is_refused_through_the_cache(client: TestClient, world: World) -> None:
    cache = SharedCache(client)
    assert cache.get(ATOM, world.auth("gazette"))[0] == 200
    assert cache.get(ATOM, world.auth("gazette"))[0] == 200
    prefix = "_".join(world.keys["gazette"].split("_")[:2])
    revoked = client.delete(f"/api/v1/partners/gazette/keys/{prefix}", headers=world.staff)
    assert revoked.status_code in (200, 204), revoked.text
    assert cache.get(ATOM, world.auth("gazette"))[0] == 401
    assert cache.origin_statuses[-1] == 401


def test_a_write_reaches_partners_through_the_cache(client: TestClient, world: World) -> None:
    cache = SharedCache(client)
    cache.get(ATOM, world.auth("gazette"))
    create(client, world.staff, "/api/v1/articles", article_body("late-news", headline="Late news"))
    status, body = cache.get(ATOM, world.auth("gazette"))
    assert status == 200 and b"Late news" in body and cache.origin_statuses[-1] == 200


def test_a_key_in_the_url_is_never_stored(client: TestClient, world: World) -> None:
    cache = SharedCache(client)
    url = f"{ATOM}?key={world.keys['gazette']}"
    assert cache.get(url, {})[0] == 200
    assert cache.get(url, {})[0] == 200
    assert cache.entries == {} and cache.origin_statuses == [200, 200]
    assert client.get(url).headers["cache-control"].startswith("private, max-age=")


def test_bundles_are_shared_per_key_and_revalidated(client: TestClient, world: World) -> None:
    cache = SharedCache(client)
    url = "/bundles/council-budget.html"
    mine = [cache.get(url, world.auth("gazette")) for _ in range(2)]
    theirs = cache.get(url, world.auth("trusted"))
    assert mine[0] == mine[1] and mine[0][0] == 200 and theirs[0] == 200
    assert theirs[1] != mine[0][1]  # each partner's pixel and credit
    assert cache.origin_statuses == [200, 304, 200]
    assert client.get(url, headers=world.auth("gazette")).headers["last-modified"].endswith("GMT")
