"""Staff accounts (argon2id password hashes) and staff API tokens (hash only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from syndication.db import UTCDateTime, utcnow


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Web sessions carry this number; logging out bumps it, so copies of the cookie die too.
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})


class StaffToken(SQLModel, table=True):
    __tablename__ = "staff_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_type=Integer,
        sa_column_args=[ForeignKey("staff_user.id", ondelete="CASCADE")],
        index=True,
    )
    prefix: str = Field(max_length=32, unique=True, index=True)
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def digest(self) -> str:
        return self.token_hash


class StaffLoginFailure(SQLModel, table=True):
    """A failed web login, kept in the database so throttling holds across workers."""

    __tablename__ = "staff_login_failure"
    __table_args__ = (Index("ix_staff_login_failure_key_at", "email", "address", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(320))
    address: str = Field(sa_type=String(64))
    at: datetime = Field(sa_type=UTCDateTime)
