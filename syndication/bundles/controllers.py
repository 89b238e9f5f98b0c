"""Partner downloads: `/bundles/{slug}.zip`, `.html` and `.json`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import HeaderParameter
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from syndication.accountability.ledger import record_deliveries
from syndication.bundles import service
from syndication.bundles.render import RENDERERS
from syndication.bundles.service import BundleAnswer
from syndication.deps import partner_guard
from syndication.partners.models import Partner
from syndication.settings import Settings
from syndication.usage.service import record


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_engine(state: State) -> Engine:
    return state.engine


def _content(media_type: str) -> OpenAPIMediaType:
    if media_type == "application/json":
        return OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT, title="IPTC ninjs 2.2"))
    return OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))


@dataclass
class BundleOperation(Operation):
    """One path, three files: the media type of the 200 answer follows the name's extension."""

    def __post_init__(self) -> None:
        media_types = [media_type.split(";")[0] for media_type, _ in RENDERERS.values()]
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The bundle (.zip), its HTML fragment (.html) or its ninjs (.json)",
                content={media_type: _content(media_type) for media_type in media_types},
            ),
            "304": OpenAPIResponse(description="The partner's copy (If-None-Match) is current"),
        }


def cache_headers(answer: BundleAnswer, key_in_url: bool, key_in_header: bool) -> dict[str, str]:
    """Validators and caching rules, as for feeds: a key in the Authorization header lets a
    shared cache store the bundle per key but revalidate every time (a revoked key is refused
    at once); a key in the URL keeps it out of shared caches altogether."""
    headers = {"ETag": answer.etag}
    if answer.last_modified is not None:
        modified = answer.last_modified.replace(microsecond=0)
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    if key_in_url:
        headers["Cache-Control"] = "private, no-cache"
        if key_in_header:  # that key answered: not for the same URL without it
            headers["Vary"] = "Authorization"
    else:
        headers |= {"Cache-Control": "public, no-cache", "Vary": "Authorization"}
    return headers


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
        operation_class=BundleOperation,
        summary="A republication bundle: {slug}.zip, or its {slug}.html or {slug}.json alone",
    )
    def get_bundle(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        now: datetime,
        partner: Partner,
        settings: Settings,
        engine: Engine,
        name: str,
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
    ) -> Response[Any]:
        answer = service.bundle(db, settings, partner, name, now, if_none_match)
        headers = cache_headers(
            answer, "key" in request.query_params, "authorization" in request.headers
        )
        if answer.body is None:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        if answer.fmt == "zip":
            headers["Content-Disposition"] = f'attachment; filename="{answer.filename}"'
        return Response(
            answer.body,
            status_code=HTTP_200_OK,
            media_type=answer.media_type,
            headers=headers,
            background=BackgroundTask(_after_download, engine, answer),
        )


def _after_download(engine: Engine, answer: BundleAnswer) -> None:
    """Runs after the bytes are sent: the usage event and the ledger row."""
    if answer.usage:
        record(engine, [answer.usage])
    if answer.delivery:
        record_deliveries(engine, [answer.delivery])
