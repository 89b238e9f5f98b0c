"""License operations. Each write commits once, or not at all."""

from __future__ import annotations

from sqlalchemy import exists, func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication import catalog
from syndication.articles.models import Article
from syndication.db import utcnow
from syndication.errors import Conflict, Invalid, NotFound
from syndication.licensing.credit import check_template
from syndication.licensing.models import License, LicenseCreate, LicenseUpdate
from syndication.partners.models import PartnerLicense


def get_license(session: Session, code: str, for_update: bool = False) -> License:
    query = select(License).where(License.code == code)
    license = session.scalars(query.with_for_update() if for_update else query).first()
    if license is None:
        raise NotFound(f"no license {code!r}", field="code")
    return license


def list_licenses(session: Session) -> list[License]:
    return list(session.scalars(select(License).order_by(License.code)))


def existing_codes(session: Session, codes: list[str]) -> set[str]:
    if not codes:
        return set()
    return set(session.scalars(select(License.code).where(License.code.in_(codes))))  # type: ignore[attr-defined]


def create_license(session: Session, data: LicenseCreate) -> License:
    check_template(data.credit_line)
    if session.scalar(select(func.count()).where(License.code == data.code)):
        raise Conflict(f"a license with code {data.code!r} exists", field="code")
    license = License.model_validate(data)
    session.add(license)
    catalog.bump(session)
    session.commit()
    return license


def update_license(session: Session, code: str, data: LicenseUpdate) -> License:
    license = get_license(session, code, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "url", "credit_line", "contact_email", "credit_placement"):
        if name in changes and changes[name] is None:
            raise Invalid("must not be null", field=name)
    if "credit_line" in changes:
        check_template(changes["credit_line"])
    for name, value in changes.items():
        setattr(license, name, value)
    if changes:
        license.updated_at = utcnow()
        catalog.bump(session)
    session.commit()
    return license


def delete_license(session: Session, code: str) -> None:
    license = get_license(session, code)
    if session.scalar(select(exists().where(col(Article.license) == code))):
        raise Conflict("pieces use this license; move them to another first", field="code")
    if session.scalar(select(exists().where(col(PartnerLicense.license) == code))):
        raise Conflict("partners hold this license; take it from them first", field="code")
    session.delete(license)
    catalog.bump(session)
    session.commit()
