"""Partner isolation by property: random worlds, and every feed, bundle and pixel path gives
each partner exactly what the entitlement rule grants, never more.

The expectation is written out from the SPEC's sentence (below, `expected`), independently of
`licensing.entitlement.decide`; the test also holds `decide` to it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlmodel import select

from syndication.app import create_app
from syndication.articles import service as articles
from syndication.articles.models import Article, ArticleCreate
from syndication.db import session_scope
from syndication.licensing import service as licensing
from syndication.licensing.entitlement import Verdict, decide
from syndication.licensing.models import License, LicenseCreate
from syndication.partners import service as partners
from syndication.partners.models import PartnerCreate
from syndication.republish.pixel import make_token
from syndication.settings import Settings
from syndication.usage.models import UsageEvent
from tests.conftest import BACKENDS, BASE_URL, Clock, _empty_postgres
from tests.factories import article_body, license_body, partner_body
from tests.feedread import feed_entries

EXAMPLES = int(os.environ.get("SYNDICATION_ISOLATION_EXAMPLES", "25"))
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SECTIONS = ["politics", "sport", "science"]
TOMBSTONE_DAYS = 30
# The SPEC's refusals for a piece the partner would otherwise be entitled to.
BUNDLE_STATUS = {
    Verdict.ENTITLED: 200,
    Verdict.NOT_ENTITLED: 404,
    Verdict.EMBARGOED: 403,
    Verdict.EXPIRED: 403,
    Verdict.WITHDRAWN: 410,
}
COUNTED = {Verdict.ENTITLED, Verdict.EXPIRED, Verdict.WITHDRAWN}  # see usage/pixel.py


@dataclass(frozen=True)
class LicenseSpec:
    min_audience: int
    window_days: int | None
    requires_pixel: bool


@dataclass(frozen=True)
class PartnerSpec:
    audience: int
    licenses: frozenset[int]
    sections: tuple[str, ...] | None
    sees_embargoed: bool
    active: bool


@dataclass(frozen=True)
class PieceSpec:
    license: int
    section: str
    published_hours: int  # relative to START
    embargo_hours: int | None  # after publication
    withdrawn: bool


@dataclass(frozen=True)
class World:
    licenses: list[LicenseSpec]
    partners: list[PartnerSpec]
    pieces: list[PieceSpec]
    later_hours: int  # how far the clock moves after the world is written


@st.composite
def worlds(draw: st.DrawFn) -> World:
    licenses = draw(st.lists(st.builds(
        LicenseSpec,
        min_audience=st.sampled_from([0, 1_000, 50_000]),
        window_days=st.none() | st.integers(1, 40),
        requires_pixel=st.booleans(),
    ), min_size=2, max_size=4))  # fmt: skip
    codes = st.frozensets(st.integers(0, len(licenses) - 1), max_size=len(licenses))
    section_filter = st.none() | st.lists(
        st.sampled_from(SECTIONS), min_size=1, max_size=2, unique=True
    ).map(tuple)
    partners = draw(st.lists(st.builds(
        PartnerSpec,
        audience=st.sampled_from([0, 5_000, 100_000]),
        licenses=codes,
        sections=section_filter,
        sees_embargoed=st.booleans(),
        active=st.booleans() | st.just(True),
    ), min_size=2, max_size=4))  # fmt: skip
    pieces = draw(st.lists(st.builds(
        PieceSpec,
        license=st.integers(0, len(licenses) - 1),
        section=st.sampled_from(SECTIONS),
        published_hours=st.integers(-24 * 60, 48),
        embargo_hours=st.none() | st.integers(1, 96),
        withdrawn=st.booleans(),
    ), min_size=3, max_size=8))  # fmt: skip
    return World(licenses, partners, pieces, draw(st.integers(0, 24 * 45)))


def expected(world: World, p: PartnerSpec, piece: PieceSpec, now: datetime) -> Verdict:
    """The SPEC's entitlement sentence, and its refusal reasons, written out once more."""
    lic = world.licenses[piece.license]
    published = START + timedelta(hours=piece.published_hours)
    if (
        not p.active
        or piece.license not in p.licenses
        or p.audience < lic.min_audience
        or (p.sections is not None and piece.section not in p.sections)
    ):
        return Verdict.NOT_ENTITLED
    if piece.withdrawn:
        return Verdict.WITHDRAWN
    if lic.window_days is not None and now >= published + timedelta(days=lic.window_days):
        return Verdict.EXPIRED
    opens = published + timedelta(hours=piece.embargo_hours or 0)
    if now < opens and not p.sees_embargoed:
        return Verdict.EMBARGOED
    return Verdict.ENTITLED


def write_world(engine, world: World) -> tuple[list[str], dict[int, int]]:  # type: ignore[no-untyped-def]
    """Through the services, as the API would; returns partner keys and piece ids."""
    with session_scope(engine) as session:
        for i, lic in enumerate(world.licenses):
            body = license_body(f"l{i}", url=f"https://news.example.org/l{i}", **vars(lic))
            licensing.create_license(session, LicenseCreate.model_validate(body))
        keys = []
        for i, p in enumerate(world.partners):
            body = partner_body(
                f"p{i}", audience=p.audience, licenses=[f"l{n}" for n in sorted(p.licenses)],
                sections=list(p.sections) if p.sections else None,
                sees_embargoed=p.sees_embargoed, active=p.active,
            )  # fmt: skip
            partners.create_partner(session, PartnerCreate.model_validate(body))
            keys.append(partners.issue_key(session, f"p{i}").key)
        ids = {}
        for i, piece in enumerate(world.pieces):
            published = START + timedelta(hours=piece.published_hours)
            embargo = piece.embargo_hours and published + timedelta(hours=piece.embargo_hours)
            body = article_body(
                f"s{i}", license=f"l{piece.license}", section=piece.section,
                published_at=published.isoformat(), embargo_until=embargo and embargo.isoformat(),
            )  # fmt: skip
            article = articles.create_article(session, ArticleCreate.model_validate(body), START)
            ids[i] = article.id
            if piece.withdrawn:
                articles.withdraw_article(session, f"s{i}", "Legal.", START)
    return keys, ids


def canonical(i: int) -> str:
    return f"https://news.example.org/2026/s{i}"


def check_decide_agrees(engine, world: World, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine, write=False) as session:
        lics = {lic.code: lic for lic in session.scalars(select(License))}
        found = {a.slug: a for a in session.scalars(select(Article))}
        for j, p in enumerate(world.partners):
            partner = partners.get_partner(session, f"p{j}")
            granted = partners.granted_codes(session, partner.id)  # type: ignore[arg-type]
            for i, piece in enumerate(world.pieces):
                article = found[f"s{i}"]
                verdict = decide(partner, granted, article, lics[article.license], now).verdict
                assert verdict is expected(world, p, piece, now), (j, i)


def check_partner(client: TestClient, world: World, j: int, key: str, now: datetime) -> None:
    p = world.partners[j]
    verdicts = {i: expected(world, p, piece, now) for i, piece in enumerate(world.pieces)}
    entitled = {canonical(i) for i, v in verdicts.items() if v is Verdict.ENTITLED}
    stones = {
        canonical(i) for i, v in verdicts.items()
        if v is Verdict.WITHDRAWN and now - START < timedelta(days=TOMBSTONE_DAYS)
    }  # fmt: skip
    auth = {"Authorization": f"Bearer {key}"}
    if not p.active:  # every path refuses the key; few tries, so the auth throttle stays out
        assert feed_entries(client, "/feeds/atom.xml", auth) is None
        assert client.get("/bundles/s0.zip", headers=auth).status_code == 401
        return
    for fmt in ("atom.xml", "rss.xml", "feed.json"):
        got = feed_entries(client, f"/feeds/{fmt}?limit=2", auth)
        assert got is not None
        assert got.entries == entitled, (fmt, j, verdicts)
        if fmt != "rss.xml":  # RSS has no tombstones: withdrawn pieces simply leave it
            assert got.tombstones == stones, (fmt, j, verdicts)
    for i, verdict in verdicts.items():
        answer = client.get(f"/bundles/s{i}.zip", headers=auth)
        assert answer.status_code == BUNDLE_STATUS[verdict], (j, i, verdict, answer.text[:200])
    assert client.get("/bundles/nothing-here.zip", headers=auth).status_code == 404


def check_pixels(client: TestClient, app, world: World, ids: dict[int, int], now: datetime) -> None:  # type: ignore[no-untyped-def]
    secret = app.state.settings.secret_key
    engine = app.state.engine
    with session_scope(engine, write=False) as session:
        partner_ids = [
            partners.get_partner(session, f"p{j}").id for j in range(len(world.partners))
        ]
    for j in range(len(world.partners)):
        for i in range(len(world.pieces)):
            token = make_token(secret, partner_ids[j], ids[i])  # type: ignore[arg-type]
            assert client.get(f"/px/{token}.gif").status_code == 200
    with session_scope(engine, write=False) as session:
        hits = {
            (e.partner_id, e.article_id)
            for e in session.scalars(select(UsageEvent).where(UsageEvent.kind == "pixel_hit"))
        }
    want = {
        (partner_ids[j], ids[i])
        for j, p in enumerate(world.partners)
        for i, piece in enumerate(world.pieces)
        if expected(world, p, piece, now) in COUNTED
    }
    assert hits == want


@pytest.fixture(scope="module", params=BACKENDS)
def fresh_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], str]]:
    """A new empty migrated database per call: hypothesis examples cannot use test fixtures."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        folder = tmp_path_factory.mktemp("isolation")

        def sqlite() -> str:
            path = folder / f"{uuid.uuid4().hex}.db"
            shutil.copy(template, path)
            return f"sqlite:///{path}"

        yield sqlite
        shutil.rmtree(folder, ignore_errors=True)
        return
    url = request.getfixturevalue("postgres_database")

    def postgres() -> str:
        _empty_postgres(url)
        return url

    yield postgres


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds())
def test_every_path_gives_each_partner_exactly_its_entitlement(
    fresh_url: Callable[[], str], world: World
) -> None:
    clock = Clock(START)
    settings_ = Settings(database_url=fresh_url(), base_url=BASE_URL, secret_key="isolation")
    app = create_app(settings_, clock=clock)
    try:
        keys, ids = write_world(app.state.engine, world)
        clock.advance(hours=world.later_hours)
        check_decide_agrees(app.state.engine, world, clock.now)
        with TestClient(app, base_url=BASE_URL) as client:
            for j, key in enumerate(keys):
                check_partner(client, world, j, key, clock.now)
            check_pixels(client, app, world, ids, clock.now)
    finally:
        app.state.engine.dispose()
