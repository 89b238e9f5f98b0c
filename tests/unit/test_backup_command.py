"""`syndication db backup` on PostgreSQL: pg_dump gets the password in its environment, never
on its command line, where every user of the host could read it (ps, /proc/PID/cmdline)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from syndication import backup


def test_pg_dump_gets_the_password_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen["command"], seen["env"] = command, kwargs.get("env")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(backup.shutil, "which", lambda _name: "/usr/bin/pg_dump")
    monkeypatch.setattr(backup.subprocess, "run", run)
    url = "postgresql+psycopg://app:s3cr%40t@db.internal:5433/synd?sslmode=require"
    assert "pg_dump archive" in backup.backup(url, tmp_path / "b.dump")
    assert not any("s3cr" in part for part in seen["command"]), seen["command"]
    assert seen["command"][-1] == "postgresql://app@db.internal:5433/synd?sslmode=require"
    assert seen["env"]["PGPASSWORD"] == "s3cr@t"
    backup.backup("postgresql+psycopg://app@db.internal/synd", tmp_path / "c.dump")
    assert seen["env"] is None  # no password: pg_dump's own (.pgpass, PGPASSWORD) applies


def test_a_failed_sqlite_backup_leaves_no_half_written_copy(tmp_path: Path) -> None:
    """Or the next try would refuse the path ("exists")."""
    junk = tmp_path / "not-a-database.db"
    junk.write_bytes(b"this is not an SQLite database" * 100)
    target = tmp_path / "copy.db"
    with pytest.raises(sqlite3.DatabaseError):
        backup.backup(f"sqlite:///{junk}", target)
    assert not target.exists()
