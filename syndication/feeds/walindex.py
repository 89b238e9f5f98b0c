"""SQLite's WAL-index header, read from the `-shm` file with no query and no system call.

In WAL mode every write transaction that commits rewrites the header at the start of
`<database>-shm` (https://www.sqlite.org/walformat.html, "The WAL-Index Header"): two copies
of a 48-byte header holding the change counter `iChange`, the last valid frame `mxFrame`,
the salts and checksums. The writer updates the second copy, then the first; readers take the
header only when both copies agree. So while the header is byte for byte what it was when a
value was last read from the database, no transaction has committed since and that value
still stands.

The catalog probe uses this to skip the version query when nothing was written. The query
itself is a few microseconds, but the sqlite3 module releases the GIL around it, and on a
loaded worker that hand-off to the server's threads cost ~50 µs of CPU per 304 (measured on
the bench host: docs/performance.md). Reading mapped memory keeps the GIL.

A descriptor of the `-shm` file is never closed. SQLite locks that file with POSIX advisory
locks, which belong to the process: closing *any* descriptor of the file drops every lock the
process's own connections hold on it ("How To Corrupt An SQLite Database File", 2.2), and a
load test here lost committed rows that way. So each file is opened and mapped once per
process and kept until the process ends.
"""

from __future__ import annotations

import mmap
import os
import threading
from pathlib import Path

HEADER_BYTES = 48
_IS_INIT = 12  # offset of the header's isInit byte

_lock = threading.Lock()
_kept: dict[tuple[int, int], WalIndex | None] = {}  # (device, inode) -> its index, forever
_descriptors: list[int] = []  # opened here, never closed (see the module docstring)


class WalIndex:
    """A read-only mapping of a database's wal-index header."""

    def __init__(self, fd: int) -> None:
        self._map = mmap.mmap(fd, 2 * HEADER_BYTES, access=mmap.ACCESS_READ)

    @classmethod
    def open(cls, database: str | Path) -> WalIndex | None:
        """The header of `database`'s `-shm` file, or None when there is none to map (an
        in-memory database, rollback-journal mode, or a file too short to hold it). Open a
        connection first: SQLite creates the file and keeps it while a connection is open."""
        path = f"{database}-shm"
        try:
            seen = os.stat(path)
        except OSError:
            return None
        identity = (seen.st_dev, seen.st_ino)
        with _lock:
            if identity in _kept:
                return _kept[identity]
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                return None
            _descriptors.append(fd)
            info = os.fstat(fd)
            found = cls(fd) if info.st_size >= 2 * HEADER_BYTES else None
            _kept[(info.st_dev, info.st_ino)] = found
            return found

    def header(self) -> bytes | None:
        """The current header, or None while a writer is between its two copies or before
        the header is initialised (then the caller must query)."""
        # The first copy, then the second, as SQLite reads them: a writer caught between its
        # two copies (it writes the second first) leaves them unequal.
        first = self._map[:HEADER_BYTES]
        second = self._map[HEADER_BYTES : 2 * HEADER_BYTES]
        if first != second or not first[_IS_INIT]:
            return None
        return first
