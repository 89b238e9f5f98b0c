"""A rolling upgrade: a newer release has migrated the database past this release's head."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from tests.live.server import LiveServer
from tests.revisions import NEWER, newer_schema, revision


def test_a_previous_release_restarted_mid_roll_serves_on_the_newer_schema(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """`serve` upgrades first; on a database a newer release has already upgraded it says so
    and serves, as the previous release's workers still running do. Before, it failed to
    start (Alembic: "Can't locate revision"), so a host restarted mid-roll stayed down."""
    with newer_schema(engine):
        with LiveServer(database_url, tmp_path) as server:
            assert httpx.get(f"{server.base_url}/healthz", timeout=5).status_code == 200
            assert httpx.get(f"{server.base_url}/feeds/atom.xml", timeout=5).status_code == 401
        log = "".join(p.read_text() for p in tmp_path.glob("server-*.log"))
        assert f"not migrating: the database is at {NEWER}" in log
        assert revision(engine) == NEWER  # left as it was
