"""/healthz reports the database; /schema documents every staff operation."""

from __future__ import annotations

from litestar.testing import TestClient

from syndication.app import create_app
from syndication.settings import Settings


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    app = create_app(Settings(database_url=f"sqlite:///{missing}", secret_key="k"))
    with TestClient(app) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["status"] == "degraded"


def test_openapi_lists_the_surface(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/api/v1/licenses",
        "/api/v1/licenses/{code}",
        "/api/v1/articles",
        "/api/v1/articles/{slug}",
        "/api/v1/articles/{slug}/corrections",
        "/api/v1/articles/{slug}/withdraw",
        "/api/v1/partners",
        "/api/v1/partners/{slug}",
        "/api/v1/partners/{slug}/keys",
        "/api/v1/partners/{slug}/keys/{prefix}",
        "/healthz",
    ):
        assert path in paths, path
