"""The wal-index header read from `-shm`: it changes with every commit and only then, and no
descriptor of the file is ever closed (that would drop SQLite's locks in this process)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from syndication.feeds.walindex import HEADER_BYTES, WalIndex


def _wal_database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (v INTEGER)")
    return conn


def test_the_header_changes_with_each_commit_and_only_then(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    writer = _wal_database(path)
    reader = sqlite3.connect(path)
    reader.execute("SELECT count(*) FROM t").fetchone()
    index = WalIndex.open(path)
    assert index is not None
    seen = [index.header()]
    for value in range(3):
        reader.execute("SELECT count(*) FROM t").fetchone()
        assert index.header() == seen[-1]  # reads change nothing
        writer.execute("INSERT INTO t VALUES (?)", (value,))
        seen.append(index.header())
    assert None not in seen
    assert len(set(seen)) == len(seen)
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # rewrites no content ...
    writer.execute("INSERT INTO t VALUES (9)")  # ... and the next commit restarts the WAL
    assert index.header() not in seen


def _shm_descriptors(path: Path) -> int:
    target = os.path.realpath(f"{path}-shm")
    return sum(
        1 for fd in os.listdir("/proc/self/fd") if os.path.realpath(f"/proc/self/fd/{fd}") == target
    )


def test_one_mapping_per_file_and_its_descriptors_stay_open(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _wal_database(path).execute("INSERT INTO t VALUES (1)")
    before = _shm_descriptors(path)
    index = WalIndex.open(path)
    assert index is not None
    assert WalIndex.open(path) is index
    del index
    # Ours stay open beside SQLite's own: closing one would release the process's locks.
    assert _shm_descriptors(path) > before


def test_no_index_without_a_shm_file(tmp_path: Path) -> None:
    assert WalIndex.open(tmp_path / "absent.db") is None
    rollback = tmp_path / "rollback.db"
    sqlite3.connect(rollback).execute("CREATE TABLE t (v INTEGER)")
    assert WalIndex.open(rollback) is None


def test_a_header_mid_update_or_uninitialised_is_no_answer(tmp_path: Path) -> None:
    header = bytearray(HEADER_BYTES)
    header[12] = 1  # isInit
    other = bytearray(header)
    other[8] = 7  # iChange moved in one copy only: a writer between its two copies
    cases = [
        (bytes(header + header), bytes(header)),
        (bytes(other + header), None),
        (bytes(2 * HEADER_BYTES), None),  # isInit = 0
    ]
    for n, (content, expected) in enumerate(cases):
        (tmp_path / f"{n}.db-shm").write_bytes(content)
        index = WalIndex.open(tmp_path / f"{n}.db")
        assert index is not None
        assert index.header() == expected
    (tmp_path / "short.db-shm").write_bytes(b"short")
    assert WalIndex.open(tmp_path / "short.db") is None
