"""Staff JSON API for partners and their keys."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.orm import Session

from syndication.deps import staff_guard
from syndication.partners import service
from syndication.partners.models import (
    KeyIssued,
    KeyPublic,
    PartnerCreate,
    PartnerPublic,
    PartnerUpdate,
)


class PartnerController(Controller):
    path = "/api/v1/partners"
    guards = [staff_guard]
    tags = ["partners"]

    @get("/", sync_to_thread=True)
    def list_partners(self, db: Session) -> list[PartnerPublic]:
        return [service.to_public(db, p) for p in service.list_partners(db)]

    @post("/", sync_to_thread=True)
    def create_partner(self, db: Session, data: PartnerCreate) -> PartnerPublic:
        return service.to_public(db, service.create_partner(db, data))

    @get("/{slug:str}", sync_to_thread=True)
    def get_partner(self, db: Session, slug: str) -> PartnerPublic:
        return service.to_public(db, service.get_partner(db, slug))

    @patch("/{slug:str}", sync_to_thread=True)
    def update_partner(self, db: Session, slug: str, data: PartnerUpdate) -> PartnerPublic:
        return service.to_public(db, service.update_partner(db, slug, data))

    @delete("/{slug:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_partner(self, db: Session, slug: str) -> None:
        service.delete_partner(db, slug)

    @post("/{slug:str}/keys", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def issue_key(self, db: Session, slug: str) -> KeyIssued:
        return service.issue_key(db, slug)

    @get("/{slug:str}/keys", sync_to_thread=True)
    def list_keys(self, db: Session, slug: str) -> list[KeyPublic]:
        return [
            KeyPublic.model_validate(k, from_attributes=True) for k in service.list_keys(db, slug)
        ]

    @delete("/{slug:str}/keys/{prefix:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def revoke_key(self, db: Session, now: datetime, slug: str, prefix: str) -> None:
        service.revoke_key(db, slug, prefix, now)
