"""The audit database's connections and durability: one SQLite connection per thread, WAL
with ``synchronous=FULL``, serialised ``BEGIN IMMEDIATE`` writes, migrations, read-only opening.

:class:`station.audit.db.AuditDB` builds its records on this; nothing here knows an event.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import sqlite_utils

from station.audit.errors import AuditError
from station.audit.group_commit import Batch, BatchQueue, Work, run_group
from station.audit.migrations import MIGRATIONS
from station.audit.readonly import connect_readonly
from station.audit.records import timestamp
from station.disk import DiskFull, full_disk_said, is_disk_full


class AuditConnection:
    """An open audit database file: connections, transactions and schema version."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()  # the write lock: one transaction at a time
        self._conns_lock = threading.Lock()  # the list of connections, apart: reads need no write
        # One connection per thread: a sqlite3 connection must not be used by two threads at
        # once, and slots provision in parallel. SQLite (WAL, busy_timeout) orders the writers.
        # A thread's connection goes back to the idle ones when the thread ends, for the next
        # thread: a slot runs each cycle on a new thread, and a connection per cycle would
        # cost its opening every time and keep two descriptors open per board until close().
        self._local = threading.local()
        self._idle: list[sqlite3.Connection] = []
        self._local.lease = _Lease(conn, self._idle)
        self._all = [conn]
        self.readonly = False
        self._queue = BatchQueue()
        #: Durable COMMITs made by :meth:`commit_group` (one per group of callers).
        self.group_commits = 0

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as e:
            if is_disk_full(e, path.parent):
                raise DiskFull(path.parent) from e
            raise AuditError(f"cannot open audit database {path}: {e}") from e
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None:
            try:
                conn = self._idle.pop()  # atomic: two threads never take the same one
            except IndexError:
                conn = connect_readonly(self.path) if self.readonly else self._connect(self.path)
                with self._conns_lock:
                    self._all.append(conn)
            lease = _Lease(conn, self._idle)
            self._local.lease = lease
        return lease.conn

    @property
    def _db(self) -> sqlite_utils.Database:
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None or db.conn is not self._conn:
            db = sqlite_utils.Database(self._conn)  # runs PRAGMAs: once per thread, not per query
            self._local.db = db
        return db

    @classmethod
    def open(cls, path: Path) -> Self:
        """Open (creating if needed) and migrate the database at ``path``."""
        audit = cls(cls._connect(path), path)
        audit._migrate()
        return audit

    @classmethod
    def open_readonly(cls, path: Path) -> Self:
        """Open the existing database at ``path`` to read only: no migration, no write, so it
        works on a full disk or a read-only copy. Writes through it fail."""
        audit = cls(connect_readonly(path), path)
        audit.readonly = True
        return audit

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock, self._conns_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._idle = []  # leases still held return their closed connections to the old list

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if getattr(self._local, "depth", 0):  # inside transaction(): join it
            yield self._conn
            return
        with self._lock, full_disk_said(self.path.parent):
            self._conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # a failed COMMIT (disk full) leaves it open
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._local.depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one durable commit (all or none)."""
        with self._write():
            yield

    def commit_group(self, work: Work) -> None:
        """Run ``work`` (a caller's writes) durably, possibly in one transaction with other
        threads' concurrent batches (see :mod:`station.audit.group_commit`). Returns only after
        the COMMIT that holds its writes; raises what ``work`` raised (its writes rolled back
        alone) or what the COMMIT raised (nothing of the group kept). ``work`` runs on
        whichever thread leads the group, so it must not rely on the caller's thread."""
        if getattr(self._local, "depth", 0):  # inside transaction(): join it
            work()
            return
        batch = Batch(work)
        self._queue.put(batch)
        while not batch.done:  # a batch put back (its group failed before it ran) goes again
            with self._lock:
                if not batch.done:
                    self._lead()
        if batch.error is not None:
            raise batch.error

    def wait_for_queued(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` callers of :meth:`commit_group` wait behind the current leader;
        False if ``timeout`` seconds passed first (for monitors and tests)."""
        return self._queue.wait_for(count, timeout)

    def _lead(self) -> None:
        """Run every queued batch in one transaction, commit, and mark each done. Holds the
        write lock (the caller took it)."""
        group = self._queue.take_all()
        left: list[Batch] = []
        conn = self._conn
        try:
            with full_disk_said(self.path.parent):
                conn.execute("BEGIN IMMEDIATE")
                self._local.depth = 1
                try:
                    left = run_group(conn, group, self.path.parent)
                    if conn.in_transaction:
                        conn.execute("COMMIT")
                        self.group_commits += 1
                finally:
                    self._local.depth = 0
        except BaseException as e:  # the COMMIT (or BEGIN) failed: nothing of the group kept
            left = []
            for batch in group:
                batch.error = e
            if conn.in_transaction:  # a failed COMMIT (disk full) leaves it open
                conn.execute("ROLLBACK")
        finally:  # every caller of the group is released, whatever happened
            self._queue.put_back(left)
            for batch in group:
                batch.done = batch not in left

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version <= self.schema_version:
                continue
            with self._write() as conn:
                migration(self._db)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)",
                    (version, timestamp(datetime.now(UTC))),
                )

    @property
    def schema_version(self) -> int:
        """The highest migration applied."""
        row = self._conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)


class _Lease:
    """One thread's connection. The thread's locals drop it when the thread ends, and the
    connection goes back to the idle list it came from (a thread that ended holds no
    transaction: every write commits or rolls back before it returns)."""

    def __init__(self, conn: sqlite3.Connection, idle: list[sqlite3.Connection]) -> None:
        self.conn = conn
        self._idle = idle

    def __del__(self) -> None:
        self._idle.append(self.conn)
