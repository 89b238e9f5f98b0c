"""The tracking pixel (anyone) and the usage report (staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.params import HeaderParameter, Parameter, QueryParameter
from sqlalchemy.orm import Session

from syndication.deps import staff_guard
from syndication.usage import reports
from syndication.usage.pixel import GIF, read_hit, record_hit

PIXEL_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class PixelController(Controller):
    path = "/px"
    tags = ["usage"]

    @get("/{name:str}", media_type="image/gif", summary="The tracking pixel: always a 1x1 GIF")
    async def pixel(
        self,
        state: State,
        now: datetime,
        name: str,
        referer: Annotated[str | None, HeaderParameter(name="Referer")] = None,
    ) -> Response[bytes]:
        hit = read_hit(state.settings.secret_key, name, referer, now)
        return Response(
            GIF,
            media_type="image/gif",
            headers=PIXEL_HEADERS,
            background=BackgroundTask(record_hit, state.engine, hit) if hit else None,
        )


class UsageController(Controller):
    path = "/api/v1/usage"
    guards = [staff_guard]
    tags = ["usage"]

    @get("/", sync_to_thread=True, summary="Usage totals, events and the pages pieces were seen on")
    def usage_report(
        self,
        db: Session,
        # `partner` is also the app's partner dependency, so the parameter is renamed in code.
        partner_slug: Annotated[str | None, QueryParameter(name="partner")] = None,
        piece: str | None = None,
        kind: Literal["feed_pull", "bundle_download", "pixel_hit"] | None = None,
        since: Annotated[str | None, Parameter(description="RFC 3339, inclusive")] = None,
        until: Annotated[str | None, Parameter(description="RFC 3339, exclusive")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10**9)] = 0,
    ) -> reports.UsageReport:
        filters = reports.parse_filter(
            db, partner=partner_slug, piece=piece, kind=kind, since=since, until=until
        )
        return reports.report(db, filters, limit, offset)
