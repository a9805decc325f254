"""Read-only connections to the audit database: they write nothing, not even on a full disk.

``mode=ro`` first, so a reader sees what a running station has committed to the WAL. SQLite
still needs its shared-memory index (the ``-shm`` file); on a full disk it cannot grow that
file and the open fails with an I/O error. When no committed transaction waits in the WAL
(the ``-wal`` file is missing or empty), the database file alone holds the whole state, and it
is read as ``immutable`` (no index, no locks). A WAL with content is never skipped: then the
error stands, and says to free space.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from station.audit.errors import AuditError
from station.disk import DiskFull, is_disk_full


def _uri(path: Path, immutable: bool) -> str:
    return f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")


def _open(path: Path, immutable: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        _uri(path, immutable), uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the file now
    except BaseException:
        conn.close()
        raise
    return conn


def _wal_is_empty(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size == 0
    except FileNotFoundError:
        return True


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that only reads ``path`` (which must exist)."""
    if not path.is_file():
        raise AuditError(f"no audit database at {path}: check --home (or STATION_HOME)")
    try:
        return _open(path, immutable=False)
    except sqlite3.Error as e:
        first = e
    if _wal_is_empty(path):
        try:
            return _open(path, immutable=True)
        except sqlite3.Error:
            pass
    if is_disk_full(first, path.parent):
        raise DiskFull(path.parent) from first
    raise AuditError(f"cannot read audit database {path}: {first}") from first
