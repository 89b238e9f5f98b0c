"""Partner operations: onboarding, the licenses it holds, and its keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from syndication import catalog, tokens
from syndication.db import utcnow
from syndication.errors import Conflict, Invalid, NotFound, Unauthenticated
from syndication.licensing.service import existing_codes
from syndication.partners.models import (
    KeyIssued,
    Partner,
    PartnerCreate,
    PartnerKey,
    PartnerLicense,
    PartnerPublic,
    PartnerUpdate,
)
from syndication.usage.models import UsageEvent

KEY_KIND = "synp"


def get_partner(session: Session, slug: str, for_update: bool = False) -> Partner:
    query = select(Partner).where(Partner.slug == slug)
    partner = session.scalars(query.with_for_update() if for_update else query).first()
    if partner is None:
        raise NotFound(f"no partner {slug!r}", field="slug")
    return partner


def granted_codes(session: Session, partner_id: int) -> list[str]:
    return sorted(
        session.scalars(
            select(PartnerLicense.license).where(PartnerLicense.partner_id == partner_id)
        )
    )


def to_public(session: Session, partner: Partner) -> PartnerPublic:
    assert partner.id is not None
    return PartnerPublic.model_validate(
        {**partner.model_dump(), "licenses": granted_codes(session, partner.id)}
    )


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.slug)))


def _set_licenses(session: Session, partner_id: int, codes: list[str]) -> None:
    wanted = sorted(set(codes))
    missing = set(wanted) - existing_codes(session, wanted)
    if missing:
        raise Invalid(f"no license {', '.join(sorted(missing))}", field="licenses")
    session.execute(delete(PartnerLicense).where(PartnerLicense.partner_id == partner_id))  # type: ignore[arg-type]
    session.add_all(PartnerLicense(partner_id=partner_id, license=code) for code in wanted)


def create_partner(session: Session, data: PartnerCreate) -> Partner:
    if session.scalar(select(func.count()).where(Partner.slug == data.slug)):
        raise Conflict(f"a partner with slug {data.slug!r} exists", field="slug")
    partner = Partner.model_validate(data.model_dump(exclude={"licenses"}))
    session.add(partner)
    session.flush()
    assert partner.id is not None
    _set_licenses(session, partner.id, data.licenses)
    catalog.bump(session)
    session.commit()
    return partner


def update_partner(session: Session, slug: str, data: PartnerUpdate) -> Partner:
    partner = get_partner(session, slug, for_update=True)
    assert partner.id is not None
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "audience", "sees_embargoed", "active", "licenses"):
        if name in changes and changes[name] is None:
            raise Invalid("must not be null", field=name)
    if "licenses" in changes:
        _set_licenses(session, partner.id, changes.pop("licenses"))
    for name, value in changes.items():
        setattr(partner, name, value)
    partner.updated_at = utcnow()
    catalog.bump(session)
    session.commit()
    return partner


def delete_partner(session: Session, slug: str) -> None:
    partner = get_partner(session, slug)
    if session.scalar(select(exists().where(col(UsageEvent.partner_id) == partner.id))):
        raise Conflict("the partner has usage on record; set active to false instead", field="slug")
    session.delete(partner)
    catalog.bump(session)
    session.commit()


def issue_key(session: Session, slug: str) -> KeyIssued:
    partner = get_partner(session, slug)
    assert partner.id is not None
    secret = tokens.new_secret(KEY_KIND)
    key = PartnerKey(partner_id=partner.id, prefix=secret.prefix, key_hash=secret.digest)
    session.add(key)
    session.commit()
    return KeyIssued(key=secret.value, prefix=key.prefix, created_at=key.created_at)


def list_keys(session: Session, slug: str) -> list[PartnerKey]:
    partner = get_partner(session, slug)
    return list(
        session.scalars(
            select(PartnerKey)
            .where(PartnerKey.partner_id == partner.id)
            .order_by(PartnerKey.created_at, PartnerKey.id)  # type: ignore[arg-type]
        )
    )


def revoke_key(session: Session, slug: str, prefix: str, now: datetime) -> PartnerKey:
    partner = get_partner(session, slug)
    key = session.scalars(
        select(PartnerKey).where(PartnerKey.partner_id == partner.id, PartnerKey.prefix == prefix)
    ).first()
    if key is None:
        raise NotFound(f"partner {slug!r} has no key {prefix!r}", field="prefix")
    if key.revoked_at is None:
        key.revoked_at = now
        catalog.bump(session)
    session.commit()
    return key


def authenticate(session: Session, secret: str | None, now: datetime) -> Partner:
    """The active partner owning an unrevoked key; 401 for anything else."""
    partner: Partner = tokens.verify_holder(
        session,
        secret,
        kind=KEY_KIND,
        key_model=PartnerKey,
        owner_model=Partner,
        owner_fk=PartnerKey.partner_id,
        what="partner key",
        now=now,
    )
    if not partner.active:
        raise Unauthenticated("this partner is inactive")
    return partner
