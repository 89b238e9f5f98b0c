"""Partner downloads: `/bundles/{slug}.zip`, `.html` and `.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import HeaderParameter
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from syndication.bundles import service
from syndication.deps import partner_guard
from syndication.partners.models import Partner
from syndication.settings import Settings
from syndication.usage.service import record


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_engine(state: State) -> Engine:
    return state.engine


class BundleController(Controller):
    path = "/bundles"
    guards = [partner_guard]
    tags = ["bundles"]
    dependencies = {
        "settings": Provide(provide_settings, sync_to_thread=False),
        "engine": Provide(provide_engine, sync_to_thread=False),
    }

    @get(
        "/{name:str}",
        sync_to_thread=True,
        summary="A republication bundle: {slug}.zip, or its {slug}.html or {slug}.json alone",
    )
    def get_bundle(
        self,
        db: Session,
        now: datetime,
        partner: Partner,
        settings: Settings,
        engine: Engine,
        name: str,
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
    ) -> Response[Any]:
        answer = service.bundle(db, settings, partner, name, now, if_none_match)
        headers = {"ETag": answer.etag, "Cache-Control": "private, no-cache"}
        if answer.body is None:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        if answer.fmt == "zip":
            headers["Content-Disposition"] = f'attachment; filename="{answer.filename}"'
        return Response(
            answer.body,
            status_code=HTTP_200_OK,
            media_type=answer.media_type,
            headers=headers,
            background=BackgroundTask(record, engine, [answer.usage]) if answer.usage else None,
        )
