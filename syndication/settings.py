"""Configuration from SYNDICATION_* environment variables, built by a function."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///syndication.db"
SECRET_FILE = ".syndication-secret"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = field(default="", repr=False)
    max_body_bytes: int = 4 * 1024 * 1024
    db_pool_size: int = 5
    db_statement_timeout_ms: int = 15_000
    debug: bool = False
    # Accountability: the in-app worker (push notices, takedown reminders, compliance checks).
    # Off unless asked for, so a Settings built by hand (tests) never starts it; on from env.
    worker_enabled: bool = False
    worker_poll_s: float = 2.0
    webhook_allow_loopback_http: bool = False
    compliance_interval_s: int = 0
    compliance_allow_private: bool = False
    takedown_ack_hours: float = 24.0

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def authority(self) -> str:
        """The host name in tag: URIs; fixed per deployment so ids never change."""
        return _host(self.base_url)

    def absolute(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


@lru_cache(maxsize=8)
def _host(base_url: str) -> str:
    # Parsed once: a feed asks for it for every piece (urlsplit was ~3 us a time).
    return urlsplit(base_url).hostname or "localhost"


def _secret_from_file(directory: Path) -> str:
    """Keep a generated secret beside the data so restarts and workers agree on it."""
    path = directory / SECRET_FILE
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
    except Exception:
        os.close(fd)
        raise
    os.close(fd)
    return value


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    secret = env.get("SYNDICATION_SECRET_KEY", "")
    if not secret:
        try:
            secret = _secret_from_file(cwd)
        except FileExistsError:  # another worker wrote it between our read and create
            secret = (cwd / SECRET_FILE).read_text().strip()
    return Settings(
        database_url=env.get("SYNDICATION_DATABASE_URL", DEFAULT_DATABASE_URL),
        base_url=env.get("SYNDICATION_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        secret_key=secret,
        max_body_bytes=_number(env, "SYNDICATION_MAX_BODY_BYTES", 4 * 1024 * 1024, int),
        db_pool_size=_at_least_one(
            _number(env, "SYNDICATION_DB_POOL_SIZE", 5, int), "SYNDICATION_DB_POOL_SIZE"
        ),
        db_statement_timeout_ms=_number(env, "SYNDICATION_DB_STATEMENT_TIMEOUT_MS", 15_000, int),
        debug=_flag(env, "SYNDICATION_DEBUG", False),
        worker_enabled=_flag(env, "SYNDICATION_WORKER_ENABLED", True),
        worker_poll_s=_number(env, "SYNDICATION_WORKER_POLL_S", 2.0, float),
        webhook_allow_loopback_http=_flag(env, "SYNDICATION_WEBHOOK_ALLOW_LOOPBACK_HTTP", False),
        compliance_interval_s=_number(env, "SYNDICATION_COMPLIANCE_INTERVAL_S", 0, int),
        compliance_allow_private=_flag(env, "SYNDICATION_COMPLIANCE_ALLOW_PRIVATE", False),
        takedown_ack_hours=_number(env, "SYNDICATION_TAKEDOWN_ACK_HOURS", 24.0, float),
    )


N = TypeVar("N", int, float)


class SettingError(ValueError):
    """A configuration value that does not parse; the message names the variable."""


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingError(
            f"{name} must be {'an integer' if kind is int else 'a number'}, not {raw!r}"
        ) from None
    if value < 0:
        raise SettingError(f"{name} must not be negative")
    return value


def _at_least_one(value: int, name: str) -> int:
    if value < 1:  # SQLAlchemy's pool takes 0 for "no limit at all"
        raise SettingError(f"{name} must be at least 1")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
