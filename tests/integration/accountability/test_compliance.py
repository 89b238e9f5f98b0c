"""The compliance check against partner pages served locally: one verdict per kind of page."""

from __future__ import annotations

import dataclasses
import io
import re
import sys
import threading
import time
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from syndication.accountability import compliance, destinations
from syndication.accountability.fetch import Fetched, fetch_page
from syndication.app import create_app
from syndication.cli import main
from syndication.db import open_session
from syndication.partners.service import get_partner
from syndication.usage.service import Usage, record
from tests.conftest import BASE_URL

from .conftest import Server, World

CANONICAL = "https://news.example.org/2026/council-budget"
BODY = (
    "<p>The council approved the budget on Tuesday after a long debate about schools, roads "
    "and the new library.</p><p>Seven members voted for it and two against it.</p>"
)


def _page(fragment: str, head: str = f'<link rel="canonical" href="{CANONICAL}">') -> str:
    return (
        f"<!doctype html><html><head><title>Gazette</title>{head}</head>"
        f"<body><header>The Partner Gazette</header>{fragment}<footer>Ads</footer></body></html>"
    )


def _pages(world: World, server: Server) -> dict[str, str]:
    _, html = world.rendered("gazette", "council-budget")
    assert 'class="syndication-pixel"' in html and 'class="syndication-credit"' in html
    no_credit = re.sub(r'<p class="syndication-credit">.*?</p>', "", html, flags=re.S)
    no_pixel = re.sub(r'<img class="syndication-pixel"[^>]*>', "", html)
    altered = html.replace("approved the budget", "threw out the budget").replace(
        "two against it", "nobody against it"
    )
    pages = {
        "compliant": server.page("/compliant", _page(html)),
        "no-credit": server.page("/no-credit", _page(no_credit)),
        "altered": server.page("/altered", _page(altered)),
        "no-pixel": server.page("/no-pixel", _page(no_pixel)),
        "no-rel-canonical": server.page("/no-rel", _page(html, head="")),
        "gone": server.url + "/gone",
        "moved": server.page("/moved", "", 302, Location="/compliant"),
    }
    with open_session(world.engine, write=False) as session:
        partner_id = get_partner(session, "gazette").id
    assert partner_id is not None
    article_id = world.piece_id("council-budget")
    record(world.engine, [Usage("pixel_hit", partner_id, world.clock(), article_id, page=url)
                          for url in pages.values()])  # fmt: skip
    return pages


@pytest.fixture
def pages(world: World, server: Server) -> dict[str, str]:
    world.piece(body_html=BODY)
    world.partner()
    world.deliver("gazette", "council-budget")
    return _pages(world, server)


def test_each_page_gets_its_verdict(world: World, pages: dict[str, str]) -> None:
    results = compliance.check(world.engine, world.settings, world.clock())
    by_page = {target.page: row for target, row in results}
    assert len(by_page) == len(pages)
    verdict = {name: by_page[url] for name, url in pages.items()}

    assert verdict["compliant"].verdict == "compliant"
    assert verdict["compliant"].similarity == 1.0
    assert verdict["moved"].verdict == "compliant"  # redirect followed (and checked) by hand
    assert verdict["no-credit"].verdict == "non-compliant"
    assert verdict["no-credit"].credit_line is False and verdict["no-credit"].pixel is True
    assert verdict["altered"].altered is True and verdict["altered"].credit_line is True
    assert verdict["altered"].similarity is not None and verdict["altered"].similarity < 0.9
    assert verdict["no-pixel"].pixel is False and verdict["no-pixel"].credit_line is True
    assert verdict["no-rel-canonical"].rel_canonical is False
    assert verdict["gone"].verdict == "unreachable" and verdict["gone"].http_status == 404
    assert compliance.failures_of(verdict["no-pixel"]) == ["pixel"]


def test_results_and_history_for_staff(world: World, pages: dict[str, str]) -> None:
    compliance.check(world.engine, world.settings, world.clock())
    world.clock.advance(hours=1)
    compliance.check(world.engine, world.settings, world.clock(), piece="council-budget")
    response = world.client.get(
        "/api/v1/compliance?partner=gazette&piece=council-budget", headers=world.headers
    )
    assert response.status_code == 200, response.text
    found = {p["page"]: p for p in response.json()}
    assert set(found) == set(pages.values())
    history = found[pages["no-credit"]]
    assert [h["verdict"] for h in history["history"]] == ["non-compliant", "non-compliant"]
    assert history["latest"]["checked_at"].startswith("2026-11-26T13:00:00")
    assert history["latest"]["credit_line"] is False

    other = world.client.get("/api/v1/compliance?partner=nobody", headers=world.headers)
    assert other.status_code == 404 and other.json()["errors"][0]["field"] == "partner"
    assert world.client.get("/api/v1/compliance").status_code == 401


def test_scheduled_run_once_per_interval(world: World, pages: dict[str, str]) -> None:
    hourly = dataclasses.replace(world.settings, compliance_interval_s=3600)
    assert compliance.run_if_due(world.engine, hourly, world.clock()) == len(pages)
    assert compliance.run_if_due(world.engine, hourly, world.clock()) == 0
    world.clock.advance(minutes=61)
    assert compliance.run_if_due(world.engine, hourly, world.clock()) == len(pages)
    off = dataclasses.replace(world.settings, compliance_interval_s=0)
    world.clock.advance(hours=5)
    assert compliance.run_if_due(world.engine, off, world.clock()) == 0


def test_private_addresses_refused_unless_allowed(server: Server) -> None:
    url = server.page("/p", "<p>hi</p>")
    refused = fetch_page(url, allow_private=False)
    assert not refused.ok and refused.error and "non-public" in refused.error
    assert fetch_page(url, allow_private=True).ok


def test_every_redirect_hop_is_checked(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A public page that redirects to a private address is refused at that hop."""
    port = server.url.rsplit(":", 1)[1]
    real = destinations._addresses
    fake_public = {"127.0.0.1": {"93.184.215.14"}}
    monkeypatch.setattr(
        destinations, "_addresses", lambda host, p: fake_public.get(host) or real(host, p)
    )
    server.page("/target", "<p>private</p>")
    server.page("/hop", "", 302, Location=f"http://localhost:{port}/target")
    assert fetch_page(server.url + "/target", allow_private=False).ok  # "public" here
    hopped = fetch_page(server.url + "/hop", allow_private=False)
    assert not hopped.ok and hopped.error and "localhost" in hopped.error


def test_size_cap_and_redirect_loop(server: Server) -> None:
    big = server.page("/big", "<p>" + "x" * 5000 + "</p>")
    capped = fetch_page(big, allow_private=True, max_bytes=1000)
    assert not capped.ok and capped.error and "larger than" in capped.error
    server.page("/loop", "", 302, Location="/loop")
    looped = fetch_page(server.url + "/loop", allow_private=True)
    assert looped.error and "redirects" in looped.error


def test_cli_check(
    world: World, pages: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SYNDICATION_DATABASE_URL": world.settings.database_url,
        "SYNDICATION_BASE_URL": world.settings.base_url,
        "SYNDICATION_SECRET_KEY": world.settings.secret_key,
        "SYNDICATION_COMPLIANCE_ALLOW_PRIVATE": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    main(["compliance", "check", "--piece", "council-budget", "--partner", "gazette"])
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{len(pages)} pages checked, 2 compliant"
    assert any(line.startswith("non-compliant") and "[pixel]" in line for line in out)

    with pytest.raises(SystemExit) as failed:
        main(["compliance", "check", "--piece", "nope"])
    assert failed.value.code == 1
    assert "piece" in capsys.readouterr().err


def test_the_app_runs_the_check_on_its_schedule(world: World, pages: dict[str, str]) -> None:
    scheduled = dataclasses.replace(
        world.settings, worker_enabled=True, worker_poll_s=0.05, compliance_interval_s=3600
    )
    app = create_app(scheduled, clock=world.clock)
    with TestClient(app, base_url=BASE_URL) as client:
        deadline = time.monotonic() + 10
        found: list = []
        while time.monotonic() < deadline and len(found) < len(pages):
            found = client.get("/api/v1/compliance", headers=world.headers).json()
            time.sleep(0.05)
    assert len(found) == len(pages)
    assert all(len(p["history"]) == 1 for p in found)  # once per interval, not once per poll


def test_a_run_keeps_each_page_as_soon_as_it_is_checked(
    world: World, pages: dict[str, str]
) -> None:
    """A worker killed in the middle of a run keeps the pages it had checked (the results
    were written together at the end, so a run cut off by a restart left none)."""
    seen: list[str] = []

    def fetch_then_die(url: str, allow: bool) -> Fetched:
        if len(seen) == 2:
            raise KeyboardInterrupt  # as good as a kill: nothing after it runs
        seen.append(url)
        return fetch_page(url, allow)

    with pytest.raises(KeyboardInterrupt):
        compliance.check(world.engine, world.settings, world.clock(), fetcher=fetch_then_die)
    found = world.client.get("/api/v1/compliance", headers=world.headers).json()
    assert sorted(p["page"] for p in found) == sorted(seen)


def test_a_run_stopped_at_shutdown_gives_its_interval_back(
    world: World, pages: dict[str, str]
) -> None:
    """Shutdown sets `stop`: the run fetches no further page (a check of many pages held the
    worker past granian's 30 s kill), and the next poll of any worker checks the pages it had
    not reached instead of leaving them unchecked for an interval, however many times it is
    stopped; each page once."""
    hourly = dataclasses.replace(world.settings, compliance_interval_s=3600)

    def stopped_after_one_page() -> int:
        stop = threading.Event()

        def fetch_then_stop(url: str, allow: bool) -> Fetched:
            stop.set()  # shutdown begins during the first page
            return fetch_page(url, allow)

        world.clock.advance(seconds=5)  # the worker restarted, or another one polls
        now = world.clock()
        return compliance.run_if_due(world.engine, hourly, now, stop=stop, fetcher=fetch_then_stop)

    assert stopped_after_one_page() == 1
    assert stopped_after_one_page() == 1  # the rest, but stopped again
    world.clock.advance(seconds=5)
    assert compliance.run_if_due(world.engine, hourly, world.clock()) == len(pages) - 2
    assert compliance.run_if_due(world.engine, hourly, world.clock()) == 0  # once an interval
    found = world.client.get("/api/v1/compliance", headers=world.headers).json()
    assert sorted(p["page"] for p in found) == sorted(pages.values())
    assert all(len(p["history"]) == 1 for p in found)


def test_a_run_that_fails_gives_its_interval_back(world: World, pages: dict[str, str]) -> None:
    """A run cut short by an error (a write that failed) does not leave the pages it did not
    reach for an interval: the next poll checks them."""
    hourly = dataclasses.replace(world.settings, compliance_interval_s=3600)
    seen: list[str] = []

    def fail_second(url: str, allow: bool) -> Fetched:
        if seen:
            raise RuntimeError("the database went away")
        seen.append(url)
        return fetch_page(url, allow)

    with pytest.raises(RuntimeError):
        compliance.run_if_due(world.engine, hourly, world.clock(), fetcher=fail_second)
    world.clock.advance(seconds=5)
    assert compliance.run_if_due(world.engine, hourly, world.clock()) == len(pages) - 1


def test_a_stopped_run_leaves_a_later_claim_alone(world: World, pages: dict[str, str]) -> None:
    """A run that outlasted its interval, while another worker claimed the next one, does not
    give that claim back when it is stopped (a third worker would start a second run)."""
    hourly = dataclasses.replace(world.settings, compliance_interval_s=3600)
    stop = threading.Event()
    started = world.clock()
    later = started + timedelta(minutes=61)

    def slow_first_page(url: str, allow: bool) -> Fetched:
        assert compliance._claim_run(world.engine, hourly, later) is not None  # another worker
        stop.set()
        return fetch_page(url, allow)

    compliance.run_if_due(world.engine, hourly, started, stop=stop, fetcher=slow_first_page)
    assert compliance.run_if_due(world.engine, hourly, later + timedelta(minutes=1)) == 0


def test_shutdown_does_not_wait_for_the_rest_of_a_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling the worker's task lets go of the thread its job runs in, and the process
    waits for that thread before it exits: a run of many slow pages held a stopping worker
    until granian killed it. The lifespan sets `stop` first, so the run ends after the page in
    hand."""
    started, stopped = threading.Event(), threading.Event()

    def slow_run(*_: object, stop: threading.Event | None = None, **__: object) -> int:
        started.set()
        for _page in range(40):  # 40 pages of half a second each
            if stop is not None and stop.is_set():
                stopped.set()
                return 0
            time.sleep(0.5)
        return 40

    monkeypatch.setattr(compliance, "run_if_due", slow_run)
    scheduled = dataclasses.replace(
        world.settings, worker_enabled=True, worker_poll_s=0.05, compliance_interval_s=3600
    )
    with TestClient(create_app(scheduled, clock=world.clock), base_url=BASE_URL):
        assert started.wait(10)
    assert stopped.wait(2)  # a page is half a second
