"""Staff JSON API for licenses."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.orm import Session

from syndication.deps import staff_guard
from syndication.licensing import service
from syndication.licensing.models import LicenseCreate, LicensePublic, LicenseUpdate


class LicenseController(Controller):
    path = "/api/v1/licenses"
    guards = [staff_guard]
    tags = ["licenses"]

    @get("/", sync_to_thread=True)
    def list_licenses(self, db: Session) -> list[LicensePublic]:
        return [LicensePublic.model_validate(x) for x in service.list_licenses(db)]

    @post("/", sync_to_thread=True)
    def create_license(self, db: Session, data: LicenseCreate) -> LicensePublic:
        return LicensePublic.model_validate(service.create_license(db, data))

    @get("/{code:str}", sync_to_thread=True)
    def get_license(self, db: Session, code: str) -> LicensePublic:
        return LicensePublic.model_validate(service.get_license(db, code))

    @patch("/{code:str}", sync_to_thread=True)
    def update_license(self, db: Session, code: str, data: LicenseUpdate) -> LicensePublic:
        return LicensePublic.model_validate(service.update_license(db, code, data))

    @delete("/{code:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_license(self, db: Session, code: str) -> None:
        service.delete_license(db, code)
