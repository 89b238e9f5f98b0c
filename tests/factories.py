"""Valid request bodies with overrides, and small helpers to create through the API."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def license_body(code: str = "free-eligible", **over: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "name": "Free for eligible publishers",
        "url": "https://news.example.org/republish",
        "summary": "Free for large publishers.",
        "terms": "Republish unaltered.",
        "credit_line": "Content created by {{ holder }} is available without charge. "
        "Contact {{ contact_email }}.",
        "contact_email": "licensing@example.org",
        "min_audience": 10_000,
        "requires_pixel": True,
        "credit_placement": "bottom",
    }
    return {**body, **over}


def article_body(slug: str = "council-budget", **over: Any) -> dict[str, Any]:
    body = {
        "slug": slug,
        "headline": "Council approves the budget",
        "summary": "The council voted 7-2.",
        "body_html": "<p>The council <strong>approved</strong> the budget.</p>",
        "byline": "Ana Example",
        "section": "politics",
        "tags": ["budget", "council"],
        "canonical_url": f"https://news.example.org/2026/{slug}",
        "copyright_holder": "The Example News Foundation",
        "published_at": "2026-11-26T08:00:00+00:00",
        "license": "free-eligible",
        "source_credits": [{"name": "Politico", "url": "https://www.politico.com/"}],
        "related": [{"title": "Earlier", "url": "https://news.example.org/2026/earlier"}],
        "images": [
            {"url": "https://news.example.org/a.jpg", "caption": "A", "credit": "Photo: A"},
            {
                "url": "https://news.example.org/secret.jpg",
                "caption": "B",
                "credit": "Agency",
                "syndicate": False,
            },
        ],
    }
    return {**body, **over}


def partner_body(slug: str = "gazette", **over: Any) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name": "The Partner Gazette",
        "homepage": "https://gazette.example.com",
        "contact_email": "desk@gazette.example.com",
        "audience": 250_000,
        "licenses": ["free-eligible"],
    }
    return {**body, **over}


def create(client: TestClient, headers: dict[str, str], path: str, body: dict) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def partner_key(client: TestClient, headers: dict[str, str], slug: str) -> str:
    response = client.post(f"/api/v1/partners/{slug}/keys", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["key"]
