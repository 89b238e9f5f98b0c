"""Takedowns: a withdrawal opens one per holder, partners acknowledge with their key, staff
see who was notified, who acknowledged and who is overdue; overdue partners are reminded."""

from __future__ import annotations

from syndication.accountability.worker import remind_overdue, run_due_notices
from tests.conftest import BASE_URL

from .conftest import Server, World


def _withdraw(world: World, slug: str = "council-budget") -> None:
    response = world.client.post(
        f"/api/v1/articles/{slug}/withdraw", json={"reason": "Legal kill"}, headers=world.headers
    )
    assert response.status_code == 200, response.text


def _staff_view(world: World, slug: str = "council-budget") -> dict[str, dict]:
    response = world.client.get(f"/api/v1/articles/{slug}/takedowns", headers=world.headers)
    assert response.status_code == 200, response.text
    return {t["partner"]: t for t in response.json()}


def _setup(world: World, server: Server) -> None:
    world.piece()
    for slug in ("gazette", "herald", "stranger"):
        world.partner(slug)
    world.webhook("gazette", server.url + "/gazette")
    world.deliver("gazette", "council-budget")
    world.deliver("herald", "council-budget")


def test_withdrawal_opens_takedowns_and_notifies_holders(world: World, server: Server) -> None:
    _setup(world, server)
    _withdraw(world)
    view = _staff_view(world)
    assert set(view) == {"gazette", "herald"}  # the stranger never held it
    assert all(t["notified_at"] is None and t["acknowledged_at"] is None for t in view.values())

    run_due_notices(world.engine, world.settings, world.clock())
    [request] = server.requests
    body = request.json()
    assert request.headers["Syndication-Event"] == "withdrawal"
    assert body["kind"] == "withdrawal" and body["reason"] == "Legal kill"
    removal = body["removal_request"]
    assert removal["takedown_id"] == view["gazette"]["id"]
    assert removal["ack_url"] == f"{BASE_URL}/api/partner/v1/takedowns/{removal['takedown_id']}/ack"

    view = _staff_view(world)
    assert view["gazette"]["notified_at"] is not None
    assert view["herald"]["notified_at"] is None  # no endpoint: it learns from the partner API
    assert not view["gazette"]["overdue"]
    open_ = world.client.get("/api/partner/v1/takedowns", headers=world.partner_headers("herald"))
    assert [t["article"] for t in open_.json()] == ["council-budget"]
    none = world.client.get("/api/partner/v1/takedowns", headers=world.partner_headers("stranger"))
    assert none.json() == []


def test_acknowledge_idempotent_and_only_ones_own(world: World, server: Server) -> None:
    _setup(world, server)
    _withdraw(world)
    ids = {p: t["id"] for p, t in _staff_view(world).items()}
    path = f"/api/partner/v1/takedowns/{ids['gazette']}/ack"

    stranger = world.client.post(path, headers=world.partner_headers("herald"))
    assert stranger.status_code == 404
    assert world.client.post(path).status_code == 401
    first = world.client.post(path, headers=world.partner_headers("gazette"))
    assert first.status_code == 200, first.text
    assert first.json()["acknowledged_at"].startswith("2026-11-26T12:00:00")
    world.clock.advance(hours=1)
    again = world.client.post(f"{path}?key={world.keys['gazette']}")
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    missing = world.client.post(
        "/api/partner/v1/takedowns/999999/ack", headers=world.partner_headers("gazette")
    )
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "id"

    view = _staff_view(world)
    assert view["gazette"]["acknowledged_at"] is not None
    gazette_open = world.client.get(
        "/api/partner/v1/takedowns", headers=world.partner_headers("gazette")
    )
    assert gazette_open.json() == []


def test_overdue_partners_are_reminded_on_a_schedule(world: World, server: Server) -> None:
    _setup(world, server)
    _withdraw(world)
    run_due_notices(world.engine, world.settings, world.clock())
    assert remind_overdue(world.engine, world.settings, world.clock()) == 0  # not yet due

    world.clock.advance(hours=24)
    view = _staff_view(world)
    assert view["gazette"]["overdue"] and view["herald"]["overdue"]
    # One reminder per endpoint (herald has none, but its reminder count still moves).
    assert remind_overdue(world.engine, world.settings, world.clock()) == 1
    assert remind_overdue(world.engine, world.settings, world.clock()) == 0  # once per period
    run_due_notices(world.engine, world.settings, world.clock())
    assert [r.headers["Syndication-Event"] for r in server.requests] == [
        "withdrawal",
        "takedown-reminder",
    ]
    assert _staff_view(world)["herald"]["reminders"] == 1

    ack = world.client.post(
        f"/api/partner/v1/takedowns/{view['gazette']['id']}/ack",
        headers=world.partner_headers("gazette"),
    )
    assert ack.status_code == 200
    world.clock.advance(hours=24)
    assert remind_overdue(world.engine, world.settings, world.clock()) == 0  # gazette is done
    view = _staff_view(world)
    assert not view["gazette"]["overdue"] and view["herald"]["overdue"]
    assert view["herald"]["reminders"] == 2 and view["gazette"]["reminders"] == 1


def test_acknowledging_cancels_pending_reminders(world: World, server: Server) -> None:
    _setup(world, server)
    _withdraw(world)
    ids = {p: t["id"] for p, t in _staff_view(world).items()}
    world.client.post(
        f"/api/partner/v1/takedowns/{ids['gazette']}/ack", headers=world.partner_headers("gazette")
    )
    assert run_due_notices(world.engine, world.settings, world.clock()) == 0
    notices = world.client.get("/api/v1/notices", headers=world.headers).json()
    assert [n["status"] for n in notices] == ["cancelled"]


def test_takedowns_of_unknown_piece(world: World) -> None:
    response = world.client.get("/api/v1/articles/nope/takedowns", headers=world.headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "slug"


def test_takedown_and_notice_commit_with_the_withdrawal(world: World, server: Server) -> None:
    """A withdrawal refused (already withdrawn) writes no second takedown nor notice."""
    _setup(world, server)
    _withdraw(world)
    again = world.client.post(
        "/api/v1/articles/council-budget/withdraw", json={"reason": "Again"},
        headers=world.headers,
    )  # fmt: skip
    assert again.status_code == 409
    assert len(_staff_view(world)) == 2
    assert len(world.client.get("/api/v1/notices", headers=world.headers).json()) == 1
