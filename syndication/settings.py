"""Configuration from SYNDICATION_* environment variables, built by a function."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
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

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def authority(self) -> str:
        """The host name in tag: URIs; fixed per deployment so ids never change."""
        return urlsplit(self.base_url).hostname or "localhost"

    def absolute(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


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
        max_body_bytes=int(env.get("SYNDICATION_MAX_BODY_BYTES", 4 * 1024 * 1024)),
        db_pool_size=int(env.get("SYNDICATION_DB_POOL_SIZE", 5)),
        db_statement_timeout_ms=int(env.get("SYNDICATION_DB_STATEMENT_TIMEOUT_MS", 15_000)),
        debug=env.get("SYNDICATION_DEBUG", "") in {"1", "true", "yes"},
    )
