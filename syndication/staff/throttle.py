"""Login throttling: after LIMIT failures for one email and address within WINDOW, wait.

Kept in the database so every worker sees the same count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.orm import Session
from sqlmodel import select

from syndication.errors import DomainError, Unauthenticated
from syndication.staff.accounts import check_password
from syndication.staff.models import StaffLoginFailure, StaffUser

LIMIT = 5
WINDOW = timedelta(minutes=15)


class Throttled(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins; try again in {math.ceil(retry_after / 60)} minute(s)",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


def retry_after(session: Session, email: str, address: str, now: datetime) -> int | None:
    """Seconds until the next attempt is allowed, or None when it is allowed now."""
    count, oldest = session.execute(
        select(func.count(), func.min(StaffLoginFailure.at)).where(
            StaffLoginFailure.email == email,
            StaffLoginFailure.address == address,
            StaffLoginFailure.at > now - WINDOW,
        )
    ).one()
    if count < LIMIT or oldest is None:
        return None
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds()))


def log_in(session: Session, email: str, password: str, address: str, now: datetime) -> StaffUser:
    # A NUL cannot reach PostgreSQL; U+FFFD keeps the attempt failing and counted.
    email = email.replace("\x00", "\ufffd").strip().lower()[:320]
    address = address[:64]
    wait = retry_after(session, email, address, now)
    if wait is not None:
        raise Throttled(wait)
    try:
        user = check_password(session, email, password, now)
    except Unauthenticated:
        session.rollback()
        session.add(StaffLoginFailure(email=email, address=address, at=now))
        session.commit()
        raise
    session.execute(
        delete(StaffLoginFailure).where(
            StaffLoginFailure.email == email,  # type: ignore[arg-type]
            StaffLoginFailure.address == address,  # type: ignore[arg-type]
        )
    )
    session.commit()
    return user
