"""Staff JSON API: partners and their keys."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from syndication.db import session_scope
from syndication.partners.models import PartnerKey
from tests.factories import create, license_body, partner_body

API = "/api/v1/partners"


@pytest.fixture
def licensed(client: TestClient, staff_headers: dict) -> None:
    create(client, staff_headers, "/api/v1/licenses", license_body())
    create(client, staff_headers, "/api/v1/licenses", license_body("cc-by-nd-4"))


def test_crud(client: TestClient, staff_headers: dict, licensed: None) -> None:
    body = partner_body(licenses=["free-eligible", "cc-by-nd-4"], sections=["politics"])
    created = create(client, staff_headers, API, body)
    assert created["licenses"] == ["cc-by-nd-4", "free-eligible"]
    assert created["sections"] == ["politics"] and created["active"] is True
    assert client.get(f"{API}/gazette", headers=staff_headers).json() == created
    assert [p["slug"] for p in client.get(API, headers=staff_headers).json()] == ["gazette"]
    patched = client.patch(
        f"{API}/gazette",
        json={"licenses": ["cc-by-nd-4"], "sees_embargoed": True, "sections": None},
        headers=staff_headers,
    ).json()
    assert patched["licenses"] == ["cc-by-nd-4"] and patched["sees_embargoed"] is True
    assert patched["sections"] is None
    assert client.delete(f"{API}/gazette", headers=staff_headers).status_code == 204
    assert client.get(f"{API}/gazette", headers=staff_headers).status_code == 404


def test_bad_input(client: TestClient, staff_headers: dict, licensed: None) -> None:
    create(client, staff_headers, API, partner_body())
    again = client.post(API, json=partner_body(), headers=staff_headers)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "slug"
    unknown = client.post(API, json=partner_body("p2", licenses=["nope"]), headers=staff_headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "licenses"
    assert client.get(f"{API}/p2", headers=staff_headers).status_code == 404
    negative = client.post(API, json=partner_body("p3", audience=-5), headers=staff_headers)
    assert negative.status_code == 400 and negative.json()["errors"][0]["field"] == "audience"
    bad_patch = client.patch(
        f"{API}/gazette", json={"name": "Renamed", "licenses": ["nope"]}, headers=staff_headers
    )
    assert bad_patch.status_code == 422
    assert client.get(f"{API}/gazette", headers=staff_headers).json()["name"] == (
        "The Partner Gazette"
    )


def test_keys_issue_list_revoke(
    client: TestClient, staff_headers: dict, licensed: None, engine
) -> None:  # type: ignore[no-untyped-def]
    create(client, staff_headers, API, partner_body())
    first = client.post(f"{API}/gazette/keys", headers=staff_headers)
    assert first.status_code == 201
    key = first.json()["key"]
    assert len(key) > 40 and key.startswith(first.json()["prefix"] + "_")
    second = client.post(f"{API}/gazette/keys", headers=staff_headers).json()
    listed = client.get(f"{API}/gazette/keys", headers=staff_headers).json()
    assert [k["prefix"] for k in listed] == [first.json()["prefix"], second["prefix"]]
    assert all(set(k) == {"prefix", "created_at", "last_used_at", "revoked_at"} for k in listed)
    with session_scope(engine, write=False) as session:
        stored = session.scalars(select(PartnerKey)).all()
    assert all(key not in (k.key_hash, k.prefix) for k in stored)  # only the hash is kept
    revoked = client.delete(f"{API}/gazette/keys/{first.json()['prefix']}", headers=staff_headers)
    assert revoked.status_code == 204
    listed = client.get(f"{API}/gazette/keys", headers=staff_headers).json()
    assert listed[0]["revoked_at"] is not None and listed[1]["revoked_at"] is None
    missing = client.delete(f"{API}/gazette/keys/synp_nothere", headers=staff_headers)
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "prefix"


def test_partner_key_authentication(
    engine, licensed: None, client: TestClient, staff_headers: dict, clock
) -> None:  # type: ignore[no-untyped-def]
    from syndication.errors import Unauthenticated
    from syndication.partners.service import authenticate

    create(client, staff_headers, API, partner_body())
    key = client.post(f"{API}/gazette/keys", headers=staff_headers).json()
    with session_scope(engine) as session:
        assert authenticate(session, key["key"], clock()).slug == "gazette"
        for bad in (None, "", key["key"] + "x", key["key"].replace("synp", "syns"), "synp_a_b"):
            with pytest.raises(Unauthenticated):
                authenticate(session, bad, clock())
    client.delete(f"{API}/gazette/keys/{key['prefix']}", headers=staff_headers)
    with session_scope(engine) as session, pytest.raises(Unauthenticated):
        authenticate(session, key["key"], clock())
    keys = client.get(f"{API}/gazette/keys", headers=staff_headers).json()
    assert keys[0]["last_used_at"] is not None
