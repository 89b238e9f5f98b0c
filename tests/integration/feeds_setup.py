"""Shared setup for the feed tests: licenses, pieces and four partners with different rights."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.testing import TestClient

from tests.factories import article_body, create, license_body, partner_body, partner_key


@dataclass
class World:
    staff: dict[str, str]
    keys: dict[str, str]  # partner slug -> key

    def auth(self, slug: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[slug]}"}


def build_world(client: TestClient, staff: dict[str, str]) -> World:
    create(client, staff, "/api/v1/licenses", license_body(credit_placement="both"))
    create(
        client,
        staff,
        "/api/v1/licenses",
        license_body("members-only", name="Members only", min_audience=0, requires_pixel=False,
                     url="https://news.example.org/members"),
    )  # fmt: skip
    create(client, staff, "/api/v1/articles", article_body("council-budget"))
    create(
        client,
        staff,
        "/api/v1/articles",
        article_body("embargoed-report", headline="Embargoed report",
                     published_at="2026-11-26T09:00:00+00:00",
                     embargo_until="2026-11-26T18:00:00+00:00"),
    )  # fmt: skip
    create(
        client,
        staff,
        "/api/v1/articles",
        article_body("members-piece", headline="For members", license="members-only"),
    )
    partners = {
        "gazette": partner_body("gazette"),
        "tiny": partner_body("tiny", name="Tiny Times", audience=5_000),
        "member": partner_body("member", name="Member Post", licenses=["members-only"]),
        "trusted": partner_body("trusted", name="Trusted Wire", sees_embargoed=True),
    }
    keys = {}
    for slug, body in partners.items():
        create(client, staff, "/api/v1/partners", body)
        keys[slug] = partner_key(client, staff, slug)
    return World(staff=staff, keys=keys)
