"""Consistent online backups: SQLite's backup API; pg_dump for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from syndication.db import libpq_url
from syndication.errors import Invalid


def backup(database_url: str, target: Path) -> str:
    url = make_url(database_url)
    if target.exists():
        raise Invalid(f"{target} exists; choose a new path", field="path")
    if url.get_backend_name() == "sqlite":
        return _backup_sqlite(url.database or "", target)
    if url.get_backend_name() == "postgresql":
        # The password goes to pg_dump in its environment, not on its command line, where
        # every user of the host could read it (ps, /proc/PID/cmdline).
        return _backup_postgres(libpq_url(url._replace(password=None)), url.password, target)
    raise Invalid(f"no backup for {url.get_backend_name()}", field="SYNDICATION_DATABASE_URL")


def _backup_sqlite(path: str, target: Path) -> str:
    if not path or path == ":memory:" or not Path(path).is_file():
        raise Invalid(f"no SQLite database at {path!r}", field="SYNDICATION_DATABASE_URL")
    source = sqlite3.connect(path, timeout=15)
    dest = sqlite3.connect(target)
    try:
        try:
            source.backup(dest)  # pages copied under a read transaction: a consistent snapshot
            check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
            source.close()
    except BaseException:
        target.unlink(missing_ok=True)  # no half-written copy (the next try would refuse it)
        raise
    if check != "ok":
        target.unlink(missing_ok=True)
        raise Invalid(f"the copy failed its integrity check: {check}", field="path")
    return f"SQLite backup written to {target}"


def _backup_postgres(url: str, password: str | None, target: Path) -> str:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise Invalid("pg_dump is not installed (see docs/deploy.md)", field="path")
    env = {**os.environ, "PGPASSWORD": password} if password is not None else None
    done = subprocess.run(
        [pg_dump, "--format=custom", f"--file={target}", url],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Invalid(f"pg_dump failed: {last}", field="path")
    return f"pg_dump archive written to {target} (restore with pg_restore)"
