"""Dependencies shared by every controller: the session, the clock, and who is calling.

Authentication runs in guards (so no handler can forget it); the guard leaves the caller in
the connection state, and the `staff` / `partner` dependencies hand it to the handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from anyio import to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from syndication.db import open_session
from syndication.errors import Unauthenticated
from syndication.partners.models import Partner
from syndication.partners.service import authenticate as authenticate_partner
from syndication.ratelimit import FailureLimiter
from syndication.staff.accounts import authenticate_token
from syndication.staff.models import StaffUser

Clock = Callable[[], datetime]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def provide_db(state: State, request: Request[Any, Any, Any]) -> Iterator[Session]:
    session = open_session(state.engine, write=request.method not in READ_METHODS)
    try:
        yield session
    finally:
        session.close()  # services commit; anything uncommitted is rolled back here


def provide_now(state: State) -> datetime:
    clock: Clock = state.clock
    return clock()


def bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _with_session(engine: Engine, write: bool, fn: Callable[[Session], Any]) -> Any:
    with open_session(engine, write) as session:
        return fn(session)


@dataclass
class AuthThrottle:
    """Failed-authentication budgets: tight per presented secret, looser per address."""

    per_secret: FailureLimiter = field(default_factory=lambda: FailureLimiter(limit=10))
    per_address: FailureLimiter = field(default_factory=lambda: FailureLimiter(limit=50))

    async def verify(
        self, connection: ASGIConnection[Any, Any, Any, Any], secret: str | None, fn: Any
    ) -> Any:
        state = connection.app.state
        if not secret:  # nothing presented: not a guess, just a 401
            return await to_thread.run_sync(_with_session, state.engine, False, fn)
        # A key's own budget never locks its holder out: a correct secret always passes,
        # while wrong ones presented for that key turn from 401 into 429.
        secret_id = "s:" + secret[:24]
        address = "a:" + (connection.client.host if connection.client else "?")
        self.per_address.check(address)
        try:
            return await to_thread.run_sync(_with_session, state.engine, False, fn)
        except Unauthenticated:
            self.per_secret.fail(secret_id)
            self.per_address.fail(address)
            self.per_secret.check(secret_id)
            raise


async def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    state = connection.app.state
    token, now = bearer(connection), state.clock()
    connection.state.staff = await state.auth_throttle.verify(
        connection, token, lambda s: authenticate_token(s, token, now)
    )


def partner_secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return bearer(connection) or connection.query_params.get("key")


async def partner_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    state = connection.app.state
    secret, now = partner_secret(connection), state.clock()
    connection.state.partner = await state.auth_throttle.verify(
        connection, secret, lambda s: authenticate_partner(s, secret, now)
    )


def provide_staff(request: Request[Any, Any, Any]) -> StaffUser:
    staff: StaffUser = request.state.staff
    return staff


def provide_partner(request: Request[Any, Any, Any]) -> Partner:
    partner: Partner = request.state.partner
    return partner


APP_DEPENDENCIES = {
    "db": Provide(provide_db),
    "now": Provide(provide_now, sync_to_thread=False),
    "staff": Provide(provide_staff, sync_to_thread=False),
    "partner": Provide(provide_partner, sync_to_thread=False),
}
