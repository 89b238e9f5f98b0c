"""HTTP surface of accountability: staff views and webhook setup, the partner takedown API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.orm import Session

from syndication.accountability import compliance, ledger, takedowns, webhooks
from syndication.accountability.models import (
    Holding,
    NoticePublic,
    PageHistory,
    TakedownPublic,
    WebhookCreate,
    WebhookIssued,
    WebhookPublic,
)
from syndication.deps import partner_guard, staff_guard
from syndication.partners.models import Partner

NoticeStatus = Literal["pending", "delivered", "failed", "cancelled"]
Limit = Annotated[int, Parameter(ge=1, le=1000)]
Offset = Annotated[int, Parameter(ge=0, le=10**9)]
RowId = Annotated[int, Parameter(ge=1, le=2**62)]  # beyond a 64-bit integer no row exists
SlugParam = Annotated[str | None, Parameter(max_length=128)]
# "partner" is also the partner-caller dependency, so the query parameter is renamed here.
PartnerParam = Annotated[str | None, QueryParameter(name="partner", max_length=128)]


class PartnerAccountabilityController(Controller):
    path = "/api/v1/partners/{slug:str}"
    guards = [staff_guard]
    tags = ["accountability"]

    @get("/webhooks", sync_to_thread=True)
    def list_webhooks(self, db: Session, slug: str) -> list[WebhookPublic]:
        return webhooks.list_endpoints(db, slug)

    @post("/webhooks", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def add_webhook(
        self, db: Session, state: State, now: datetime, slug: str, data: WebhookCreate
    ) -> WebhookIssued:
        return webhooks.add_endpoint(db, state.settings, slug, data.url, now)

    @delete("/webhooks/{webhook_id:int}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def remove_webhook(self, db: Session, now: datetime, slug: str, webhook_id: RowId) -> None:
        webhooks.remove_endpoint(db, slug, webhook_id, now)

    @get("/deliveries", sync_to_thread=True)
    def deliveries(
        self, db: Session, slug: str, limit: Limit = 500, offset: Offset = 0
    ) -> list[Holding]:
        return ledger.partner_holdings(db, slug, limit, offset)


class ArticleAccountabilityController(Controller):
    path = "/api/v1/articles/{slug:str}"
    guards = [staff_guard]
    tags = ["accountability"]

    @get("/deliveries", sync_to_thread=True)
    def deliveries(
        self, db: Session, slug: str, limit: Limit = 500, offset: Offset = 0
    ) -> list[Holding]:
        return ledger.article_holdings(db, slug, limit, offset)

    @get("/takedowns", sync_to_thread=True)
    def takedowns(
        self, db: Session, state: State, now: datetime, slug: str
    ) -> list[TakedownPublic]:
        return takedowns.for_article(db, slug, now, state.settings.takedown_ack_hours)


class AccountabilityController(Controller):
    path = "/api/v1"
    guards = [staff_guard]
    tags = ["accountability"]

    @get("/notices", sync_to_thread=True)
    def notices(
        self,
        db: Session,
        status: NoticeStatus | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[NoticePublic]:
        return webhooks.list_notices(db, status, limit)

    @get("/compliance", sync_to_thread=True)
    def compliance(
        self, db: Session, partner_slug: PartnerParam = None, piece: SlugParam = None
    ) -> list[PageHistory]:
        return compliance.history(db, piece=piece, partner=partner_slug)


class PartnerTakedownController(Controller):
    path = "/api/partner/v1/takedowns"
    guards = [partner_guard]
    tags = ["partner API"]

    @get("/", sync_to_thread=True)
    def open_takedowns(
        self, db: Session, state: State, now: datetime, partner: Partner
    ) -> list[TakedownPublic]:
        assert partner.id is not None
        return takedowns.open_for_partner(db, partner.id, now, state.settings.takedown_ack_hours)

    @post("/{takedown_id:int}/ack", status_code=HTTP_200_OK, sync_to_thread=True)
    def acknowledge(
        self, db: Session, state: State, now: datetime, partner: Partner, takedown_id: RowId
    ) -> TakedownPublic:
        assert partner.id is not None
        return takedowns.acknowledge(
            db, partner.id, takedown_id, now, state.settings.takedown_ack_hours
        )


CONTROLLERS = [
    PartnerAccountabilityController,
    ArticleAccountabilityController,
    AccountabilityController,
    PartnerTakedownController,
]
