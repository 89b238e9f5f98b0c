"""How the staff web UI hooks into the app: signed session cookie, CSRF, the login guard.

Both the session and the CSRF check apply under /staff/ only; the JSON API keeps bearer tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.response import Redirect

from syndication.db import open_session
from syndication.settings import Settings
from syndication.staff.models import StaffUser

STATIC_DIR = Path(__file__).resolve().parent / "static"
UI_PREFIX = "/staff"
LOGIN_PATH = f"{UI_PREFIX}/login"
SESSION_HOURS = 12
# Everything outside /staff (the JSON API, feeds, bundles) is left alone by both middlewares.
NOT_STAFF = r"^/(?!staff(?:/|$))[^/]"


def _derive(secret_key: str, purpose: str) -> bytes:
    return hashlib.sha256(f"syndication:{purpose}:{secret_key}".encode()).digest()


@dataclass(frozen=True)
class StaffWebConfig:
    middleware: list[DefineMiddleware]
    csrf_config: CSRFConfig


def staff_web_config(settings: Settings) -> StaffWebConfig:
    session = CookieBackendConfig(
        secret=_derive(settings.secret_key, "staff-session"),
        key="staff_session",
        path=UI_PREFIX,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        exclude=NOT_STAFF,
    )
    csrf = CSRFConfig(
        secret=_derive(settings.secret_key, "staff-csrf").hex(),
        cookie_name="staff_csrf",
        cookie_path=UI_PREFIX,
        cookie_secure=settings.https,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=NOT_STAFF,
    )
    return StaffWebConfig(middleware=[session.middleware], csrf_config=csrf)


class LoginRequired(NotAuthorizedException):
    """No staff session: pages answer with a redirect to the login form."""


def _load_user(engine: Any, user_id: Any) -> StaffUser | None:
    if not isinstance(user_id, int):
        return None
    with open_session(engine, write=False) as session:
        return session.get(StaffUser, user_id)


async def staff_session_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    data = connection.session if "session" in connection.scope else {}
    user = await to_thread.run_sync(_load_user, connection.app.state.engine, data.get("staff_id"))
    if user is None or data.get("epoch") != user.session_epoch:
        raise LoginRequired("log in first")
    connection.scope["staff"] = user  # type: ignore[typeddict-unknown-key]


def to_login(request: Request[Any, Any, Any], _: LoginRequired) -> Response[Any]:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return Redirect(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path inside the UI, so the login form cannot bounce anyone to another site."""
    if target and target.startswith(f"{UI_PREFIX}/") and not target.startswith("//"):
        return target
    return f"{UI_PREFIX}/"
