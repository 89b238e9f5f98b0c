"""Dependencies shared by every controller: the session, the clock, and who is calling.

Authentication runs in guards (so no handler can forget it); the guard leaves the caller in
the connection state, and the `staff` / `partner` dependencies hand it to the handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from anyio import to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from syndication.db import open_session, session_scope
from syndication.partners.models import Partner
from syndication.partners.service import authenticate as authenticate_partner
from syndication.ratelimit import AuthThrottle
from syndication.staff.accounts import authenticate_token
from syndication.staff.models import StaffUser
from syndication.tokens import bearer_token

Clock = Callable[[], datetime]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def provide_db(state: State, request: Request[Any, Any, Any]) -> Iterator[Session]:
    read = request.method in READ_METHODS
    session = open_session(state.engine, write=not read)
    try:
        yield session  # a handler's exception is thrown in here: no commit then
        if read:  # ends the read with COMMIT, not the close's ROLLBACK (db.session_scope)
            session.commit()
    finally:
        session.close()  # services commit; anything uncommitted is rolled back here


def provide_now(state: State) -> datetime:
    clock: Clock = state.clock
    return clock()


def bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return bearer_token(connection.headers.get("authorization", ""))


def _with_session(engine: Engine, write: bool, fn: Callable[[Session], Any]) -> Any:
    with session_scope(engine, write) as session:  # ends with COMMIT: db.session_scope
        return fn(session)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "?"


def _verify(connection: ASGIConnection[Any, Any, Any, Any], secret: str | None, fn: Any) -> Any:
    state = connection.app.state
    throttle: AuthThrottle = state.auth_throttle
    return throttle.attempt(
        client_address(connection),
        secret,
        lambda: to_thread.run_sync(_with_session, state.engine, False, fn),
    )


async def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    state = connection.app.state
    token, now = bearer(connection), state.clock()
    connection.state.staff = await _verify(
        connection, token, lambda s: authenticate_token(s, token, now)
    )


def partner_secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return bearer(connection) or connection.query_params.get("key")


async def partner_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    state = connection.app.state
    secret, now = partner_secret(connection), state.clock()
    connection.state.partner = await _verify(
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
