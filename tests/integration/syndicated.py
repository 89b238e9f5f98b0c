"""Helpers for the bundle, pixel and usage tests: a license, a partner with a key, a piece."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

from tests.factories import article_body, create, license_body, partner_body, partner_key


@dataclass
class Syndicated:
    client: TestClient
    staff: dict[str, str]
    key: str

    def as_partner(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def get(self, path: str, key: str | None = None, **kw: Any) -> Any:
        headers = {**self.as_partner(key), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def piece(self, slug: str, **over: Any) -> dict:
        return create(self.client, self.staff, "/api/v1/articles", article_body(slug, **over))

    def partner(self, slug: str, **over: Any) -> str:
        create(self.client, self.staff, "/api/v1/partners", partner_body(slug, **over))
        return partner_key(self.client, self.staff, slug)

    def usage(self, **params: Any) -> dict:
        response = self.client.get("/api/v1/usage", params=params, headers=self.staff)
        assert response.status_code == 200, response.text
        return response.json()


def syndicated(client: TestClient, staff: dict[str, str], **license_over: Any) -> Syndicated:
    create(client, staff, "/api/v1/licenses", license_body(**license_over))
    create(client, staff, "/api/v1/partners", partner_body())
    return Syndicated(client, staff, partner_key(client, staff, "gazette"))
