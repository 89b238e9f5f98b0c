"""Staff accounts: argon2id passwords for the web UI, bearer tokens for the JSON API."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, update
from sqlalchemy.orm import Session
from sqlmodel import select

from syndication import tokens
from syndication.errors import Conflict, Invalid, NotFound, Unauthenticated
from syndication.fields import check_email
from syndication.staff.models import StaffToken, StaffUser

TOKEN_KIND = "syns"
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    try:
        return check_email(email)
    except ValueError as exc:
        raise Invalid(str(exc), field="email") from exc


def get_staff(session: Session, email: str) -> StaffUser:
    user = session.scalars(
        select(StaffUser).where(StaffUser.email == normalise_email(email))
    ).first()
    if user is None:
        raise NotFound(f"no staff account {email!r}", field="email")
    return user


def create_staff(session: Session, email: str, password: str) -> StaffUser:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"at least {MIN_PASSWORD} characters", field="password")
    if session.scalar(select(func.count()).where(StaffUser.email == email)):
        raise Conflict(f"a staff account {email!r} exists", field="email")
    user = StaffUser(email=email, password_hash=_hasher.hash(password))
    session.add(user)
    session.commit()
    return user


def check_password(session: Session, email: str, password: str, now: datetime) -> StaffUser:
    user = session.scalars(
        select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise Unauthenticated("wrong email or password")
    user.last_login_at = now
    session.commit()
    return user


def end_web_sessions(session: Session, user_id: int) -> None:
    """Log out everywhere: sessions signed with the previous epoch stop working."""
    session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id)  # type: ignore[arg-type]
        .values(session_epoch=StaffUser.session_epoch + 1)
    )
    session.commit()


def issue_token(session: Session, email: str) -> str:
    user = get_staff(session, email)
    assert user.id is not None
    secret = tokens.new_secret(TOKEN_KIND)
    session.add(StaffToken(user_id=user.id, prefix=secret.prefix, token_hash=secret.digest))
    session.commit()
    return secret.value


def authenticate_token(session: Session, secret: str | None, now: datetime) -> StaffUser:
    user: StaffUser = tokens.verify_holder(
        session,
        secret,
        kind=TOKEN_KIND,
        key_model=StaffToken,
        owner_model=StaffUser,
        owner_fk=StaffToken.user_id,
        what="staff token",
        now=now,
    )
    return user
