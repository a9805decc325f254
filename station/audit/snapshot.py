"""A consistent, read-only view of the audit database for exports: one SQLite read transaction.

Every query streams (a cursor, never a list), so an export of a million events holds one row at
a time. The view sees the database as it was at its first read, even while slots go on writing
(WAL readers keep their snapshot).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from station.audit.certificates import ON_BOARD, CertificateStatus
from station.audit.chain import GENESIS, canonical_text
from station.audit.chain_read import CANONICAL_SQL, sqlite_writes_canonical
from station.audit.errors import AuditError
from station.audit.records import timestamp


@dataclass(frozen=True)
class Window:
    """The contiguous run of events ``after < seq <= last`` (empty when ``last <= after``)."""

    after: int
    last: int

    @property
    def empty(self) -> bool:
        return self.last <= self.after

    @property
    def first_seq(self) -> int | None:
        return None if self.empty else self.after + 1


_REVOKED_STATUS = {"revoked": CertificateStatus.REVOKED.value}
_ON_BOARD_STATUSES = {f"s{n}": status.value for n, status in enumerate(ON_BOARD, start=1)}

# A cycle runs from a board's STARTED event to the next LOCKED or FAILED event of that board
# (a second STARTED first means the cycle was abandoned and is not timed).
_CYCLES = """
SELECT (julianday(e.at) - julianday(s.at)) * 86400.0 AS secs
FROM events AS s
JOIN events AS e ON e.seq = (
    SELECT x.seq FROM events AS x
    WHERE x.board_uid = s.board_uid AND x.seq > s.seq
      AND +x.kind IN ('STARTED', 'LOCKED', 'FAILED')
    ORDER BY x.seq LIMIT 1)
WHERE +s.kind = 'STARTED' AND s.seq > :after AND s.seq <= :last
  AND e.kind IN ('LOCKED', 'FAILED') AND e.seq <= :last
"""
# The unary + keeps SQLite from walking the kind index (every STARTED of the whole database):
# the window is a seq range and a board's events are found by board_uid.


class AuditSnapshot:
    """Read-only queries over one read transaction. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        try:
            self._conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.execute("BEGIN")
            self.head_seq, self.head_hash = self._head()
            self._sqlite_canonical = sqlite_writes_canonical(self._conn)
        except sqlite3.Error as e:
            raise AuditError(f"cannot read audit database {path}: {e}") from e

    def __enter__(self) -> AuditSnapshot:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._conn.execute("COMMIT")
        self._conn.close()

    def _one(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _rows(self, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for row in self._conn.execute(sql, params):
            yield dict(row)

    def _head(self) -> tuple[int, str]:
        row = self._conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        last = row.fetchone()
        return (int(last[0]), str(last[1])) if last else (0, GENESIS)

    # ---- the window ------------------------------------------------------------------------

    def window_after(self, after: int) -> Window:
        """Every event after ``after`` up to the head (``--shift current``)."""
        return Window(after, max(after, self.head_seq))

    def window_between(self, since: datetime | None, until: datetime | None) -> Window:
        """Events from the first at/after ``since`` to the last before ``until``."""
        first = 1
        if since is not None:
            # seq + 0: MIN(seq) alone walks the table from seq 1 until an event is late enough
            # (a second at a million boards); this reads the at index from `since` on.
            found = self._one("SELECT MIN(seq + 0) FROM events WHERE at >= ?", (timestamp(since),))
            first = int(found) if found is not None else self.head_seq + 1
        last = self.head_seq
        if until is not None:
            found = self._one("SELECT MAX(seq) FROM events WHERE at < ?", (timestamp(until),))
            last = int(found) if found is not None else 0
        return Window(first - 1, max(first - 1, last))

    def last_export(self) -> dict[str, Any] | None:
        """The newest export row (None before the first export)."""
        row = self._conn.execute("SELECT * FROM exports ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else dict(row)

    def hash_at(self, seq: int) -> str:
        """The hash of event ``seq`` (GENESIS for 0): what the window's first event links to."""
        if seq == 0:
            return GENESIS
        return str(self._one("SELECT hash FROM events WHERE seq = ?", (seq,)))

    # ---- rows --------------------------------------------------------------------------------

    def count_events(self, w: Window) -> int:
        return int(
            self._one("SELECT COUNT(*) FROM events WHERE seq > ? AND seq <= ?", (w.after, w.last))
        )

    def events(self, w: Window) -> Iterator[dict[str, Any]]:
        """The window's events in sequence order."""
        return self._rows(
            "SELECT * FROM events WHERE seq > :after AND seq <= :last ORDER BY seq",
            {"after": w.after, "last": w.last},
        )

    def canonical_events(self, w: Window) -> Iterator[sqlite3.Row]:
        """The window's events in sequence order: ``seq, prev_hash, hash``, the columns the
        summary counts, and last ``canonical``, the event's canonical form as SQLite writes
        it (see :mod:`station.audit.chain_read`: to be checked against the hash, and taken
        from :meth:`defined_canonical` where it misses)."""
        canonical = CANONICAL_SQL if self._sqlite_canonical else "NULL"
        yield from self._conn.execute(
            "SELECT seq, prev_hash, hash, kind, code, operator, slot, text, "  # noqa: S608
            f"{canonical} AS canonical FROM events WHERE seq > ? AND seq <= ? ORDER BY seq",
            (w.after, w.last),
        )

    def defined_canonical(self, seq: int) -> str:
        """Event ``seq``'s canonical form by :mod:`station.audit.chain` (the definition)."""
        row = self._conn.execute("SELECT * FROM events WHERE seq = ?", (seq,)).fetchone()
        return canonical_text(dict(row))

    _ISSUED = (
        "FROM events AS e JOIN certificates AS c ON c.serial = e.serial "
        "WHERE +e.kind = 'ISSUED' AND e.seq > :after AND e.seq <= :last"
    )

    def count_issued(self, w: Window) -> int:
        return int(self._one(f"SELECT COUNT(*) {self._ISSUED}", {"after": w.after, "last": w.last}))

    def issued(self, w: Window) -> Iterator[dict[str, Any]]:
        """Certificates issued in the window (current status), with ``issued_at``."""
        return self._rows(
            f"SELECT c.*, e.at AS issued_at, e.seq AS issued_seq {self._ISSUED} ORDER BY e.seq",
            {"after": w.after, "last": w.last},
        )

    # One event revokes a certificate: REVOKED, or SUPERSEDED with revoked=true.
    _REVOKED = (
        "FROM events AS e JOIN certificates AS c ON c.serial = e.serial "
        "WHERE e.seq > :after AND e.seq <= :last AND c.status = :revoked "
        "AND (e.kind = 'REVOKED' OR (e.kind = 'SUPERSEDED' AND json_extract(e.data, '$.revoked')))"
    )

    def count_revocations(self, w: Window) -> int:
        return int(
            self._one(
                f"SELECT COUNT(*) {self._REVOKED}",
                {"after": w.after, "last": w.last, **_REVOKED_STATUS},
            )
        )

    def revocations(self, w: Window) -> Iterator[dict[str, Any]]:
        """Certificates revoked in the window, in the order they were revoked."""
        return self._rows(
            f"SELECT c.*, e.seq AS revoked_seq {self._REVOKED} ORDER BY e.seq",
            {"after": w.after, "last": w.last, **_REVOKED_STATUS},
        )

    def expiring(self, before: datetime) -> Iterator[dict[str, Any]]:
        """Certificates on boards whose notAfter is before ``before``, soonest first."""
        return self._rows(
            "SELECT serial, board_uid, status, subject, not_after, sha256 FROM certificates "
            "WHERE status IN (:s1, :s2, :s3) AND not_after < :before "
            "ORDER BY not_after, serial",
            {"before": timestamp(before), **_ON_BOARD_STATUSES},
        )

    # ---- cycle times -------------------------------------------------------------------------

    def cycle_times(self, w: Window) -> tuple[int, float | None, float | None]:
        """(cycles timed, median seconds, p95 seconds, nearest rank). SQLite sorts the times
        into a temporary table (its own bounded cache, spilling to disk), not Python."""
        self._conn.execute("DROP TABLE IF EXISTS temp.cycle_secs")
        self._conn.execute(
            f"CREATE TEMP TABLE cycle_secs AS SELECT secs FROM ({_CYCLES}) ORDER BY secs",  # noqa: S608
            {"after": w.after, "last": w.last},
        )
        n = int(self._one("SELECT COUNT(*) FROM temp.cycle_secs"))
        if n == 0:
            return 0, None, None

        def at(rank: int) -> float:  # rowids follow the ORDER BY of the insert, from 1
            return float(self._one("SELECT secs FROM temp.cycle_secs WHERE rowid = ?", (rank + 1,)))

        median = at((n - 1) // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2
        p95 = at(max(0, -(-95 * n // 100) - 1))
        return n, median, p95
