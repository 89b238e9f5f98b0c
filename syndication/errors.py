"""Domain errors, and the one place that maps them (and framework errors) to HTTP answers."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy.exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_410_GONE,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)


class DomainError(Exception):
    status_code = HTTP_400_BAD_REQUEST

    def __init__(self, detail: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class Invalid(DomainError):
    """Input that parsed but breaks a rule; always names the field."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY


class NotFound(DomainError):
    status_code = HTTP_404_NOT_FOUND


class Conflict(DomainError):
    status_code = HTTP_409_CONFLICT


class PreconditionFailed(DomainError):
    status_code = HTTP_412_PRECONDITION_FAILED


class Unauthenticated(DomainError):
    status_code = HTTP_401_UNAUTHORIZED


class Forbidden(DomainError):
    status_code = HTTP_403_FORBIDDEN


class NotEntitled(NotFound):
    """Answered exactly like a piece that does not exist."""


class Embargoed(DomainError):
    status_code = HTTP_403_FORBIDDEN

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"embargoed until {until.isoformat()}",
            reason="embargoed",
            embargo_until=until.isoformat(),
        )


class Expired(DomainError):
    status_code = HTTP_403_FORBIDDEN

    def __init__(self, since: datetime) -> None:
        super().__init__(
            f"the license window closed on {since.isoformat()}",
            reason="expired",
            window_closed_at=since.isoformat(),
        )


class Withdrawn(DomainError):
    status_code = HTTP_410_GONE

    def __init__(self, reason: str, at: datetime | None) -> None:
        super().__init__(
            f"withdrawn: {reason}",
            reason="withdrawn",
            withdrawal_reason=reason,
            withdrawn_at=at.isoformat() if at else None,
        )


def error_body(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> dict:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    body = error_body(exc.status_code, exc.detail, errors)
    body.update({k: v for k, v in exc.extra.items() if v is not None})
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    return _json(exc.status_code, body, headers or None)


def _field_of(item: dict[str, Any]) -> str:
    key = str(item.get("key") or "")
    return key or str(item.get("source") or "body")


def validation_error_handler(_: Request, exc: ValidationException) -> Response:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        {"field": _field_of(item), "message": str(item.get("message", "invalid"))}
        for item in extra
        if isinstance(item, dict)
    ]
    if not errors:
        errors = [{"field": "body", "message": exc.detail or "invalid request body"}]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return _json(HTTP_400_BAD_REQUEST, error_body(HTTP_400_BAD_REQUEST, summary, errors))


def http_error_handler(_: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", "Bearer")
    # The framework's 400s are bodies it could not decode (malformed JSON, a lone surrogate).
    errors = [{"field": "body", "message": exc.detail}] if status == 400 else None
    return _json(status, error_body(status, exc.detail, errors), headers or None)


def undecodable_body_handler(_: Request, exc: UnicodeDecodeError) -> Response:
    """msgspec raises this, not a decode error, for a JSON body that is not UTF-8."""
    message = f"is not valid UTF-8 (byte {exc.start})"
    body = error_body(
        HTTP_400_BAD_REQUEST, f"body: {message}", [{"field": "body", "message": message}]
    )
    return _json(HTTP_400_BAD_REQUEST, body)


# The database did not answer in time or could not be reached: a failover, a restart, a
# partition, a statement, lock or pool timeout, SQLite's busy timeout. Clients retry a 503.
# What retrying cannot fix (a missing table, a permission, a bad statement) stays a 500.
DATABASE_ERRORS = (psycopg.OperationalError, sqlite3.OperationalError,
                   sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError)  # fmt: skip
# SQLSTATE classes: connection exception, insufficient resources, operator intervention
# (a statement timeout, a shutdown), transaction rollback (serialization, deadlock); and
# lock_not_available (lock_timeout).
TRANSIENT_SQLSTATES = ("08", "53", "57", "40", "55P03")
SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "disk i/o error",
                      "unable to open database", "database or disk is full")  # fmt: skip
RETRY_AFTER_SECONDS = 5


def _driver_error(exc: BaseException) -> BaseException | None:
    """The DB-API error under SQLAlchemy's wrapping of it, or `exc` itself."""
    return exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc


def refused(exc: BaseException) -> bool:
    """Whether the database refused the data itself (a constraint, a value): retrying the same
    rows fails the same way."""
    if isinstance(exc, sqlalchemy.exc.IntegrityError | sqlalchemy.exc.DataError):
        return True
    cause = _driver_error(exc)
    return isinstance(cause, psycopg.IntegrityError | psycopg.DataError | sqlite3.IntegrityError)


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` is the database being out of reach for now, not a fault to fix."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no pooled connection came free
        return True
    cause = _driver_error(exc)
    if isinstance(cause, psycopg.Error):
        if cause.sqlstate is None:  # no answer from the server: the connection failed
            return isinstance(cause, psycopg.OperationalError)
        return cause.sqlstate.startswith(TRANSIENT_SQLSTATES)
    return isinstance(cause, sqlite3.OperationalError) and str(cause).lower().startswith(
        SQLITE_UNAVAILABLE
    )


def database_error_handler(request: Request, exc: Exception) -> Response:
    if not unavailable(exc):
        return internal_error_handler(request, exc)
    request.logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, exc
    )
    status = HTTP_503_SERVICE_UNAVAILABLE
    return _json(
        status,
        error_body(status, "the database is unavailable; try again shortly"),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def internal_error_handler(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _json(
        HTTP_500_INTERNAL_SERVER_ERROR,
        error_body(HTTP_500_INTERNAL_SERVER_ERROR, "internal error"),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    UnicodeDecodeError: undecodable_body_handler,
    **dict.fromkeys(DATABASE_ERRORS, database_error_handler),
    Exception: internal_error_handler,
}
