"""Security headers on every answer, and refusal of cross-site writes to the staff surfaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_HTML = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
]


def security_headers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: adds the headers unless the handler set its own."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                is_html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                for name, value in _ALWAYS + (_HTML if is_html else []):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}  # type: ignore[assignment]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STAFF_PREFIXES = ("/api/v1/", "/staff/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site_guard(base_url: str) -> Callable[[ASGIApp], ASGIApp]:
    """Refuse state-changing staff requests that a browser marks as coming from another site.

    Server-to-server clients (curl, partners' CMS) send neither header and pass; a browser
    page on another origin always sends `Origin` (and `Sec-Fetch-Site`) on a POST.
    """
    own = _origin(base_url)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and scope.get("method") not in SAFE_METHODS
                and scope["path"].startswith(STAFF_PREFIXES)
            ):
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
                site = headers.get("sec-fetch-site", "")
                origin = headers.get("origin")
                foreign_origin = origin is not None and origin != "null" and _origin(origin) != own
                if site == "cross-site" or foreign_origin or origin == "null":
                    await _refuse(send)
                    return
            await app(scope, receive, send)

        return middleware

    return factory


def nul_guard(app: ASGIApp) -> ASGIApp:
    """Refuse a NUL in the path or query: no URL means one, and PostgreSQL cannot store it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            where = "path" if "\x00" in scope["path"] else None
            where = "query" if b"%00" in query or b"\x00" in query else where
            if where:
                await _refuse(send, 400, "NUL character in the URL", where, "contains a NUL")
                return
        await app(scope, receive, send)

    return middleware


async def _refuse(
    send: Send,
    status: int = 403,
    detail: str = "cross-site request refused",
    field: str = "Origin",
    message: str = "requests from other sites may not change data",
) -> None:
    body = json.dumps(
        {"status_code": status, "detail": detail, "errors": [{"field": field, "message": message}]}
    ).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
