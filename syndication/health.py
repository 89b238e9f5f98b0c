"""Liveness and database reachability."""

from __future__ import annotations

from litestar import MediaType, Response, get
from litestar.datastructures import State
from sqlalchemy import text

from syndication.db import session_scope


@get("/healthz", sync_to_thread=True, media_type=MediaType.JSON, tags=["health"])
def healthz(state: State) -> Response[dict[str, str]]:
    try:
        with session_scope(state.engine, write=False) as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of the probe is to report, not to raise
        return Response({"status": "degraded", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
