"""A station's own chain, read for pushing: a read-only connection to its audit database.

Read-only, so a sync (from the TUI's worker or `station factory sync`) can never change the
station's record, and runs beside a station that is provisioning.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from station.audit.chain import GENESIS, canonical_text
from station.factory.errors import FactoryError

#: The columns an event's canonical text is made of, and its hash.
_COLUMNS = (
    "seq, at, kind, station_id, operator, slot, port, board_uid, serial, code, text, data, "
    "prev_hash, hash"
)
_NAMES = tuple(c.strip() for c in _COLUMNS.split(","))


class LocalChain:
    """The events of one station's audit database, as (seq, hash, canonical text)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # mode=ro, never immutable: the station may be writing (and checkpointing) meanwhile.
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        if not path.is_file():
            raise FactoryError(f"no audit database at {path}: check --home (or STATION_HOME)")
        try:
            # Read by one thread at a time, not always the one that opened it (sync reads ahead).
            self._conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as e:
            raise FactoryError(f"cannot read the audit database {path}: {e}") from e

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> LocalChain:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def head(self) -> tuple[int, str]:
        """The newest event's seq and hash; (0, GENESIS) before the first event."""
        last = self._conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        row = last.fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def hash_at(self, seq: int) -> str | None:
        """The hash of event ``seq``, or None if the database has none."""
        row = self._conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        return str(row[0]) if row else None

    def events(self, after: int, upto: int) -> Iterator[tuple[int, str, str]]:
        """Events after seq ``after`` up to seq ``upto``, streamed, as the station hashed them.

        The canonical text is rebuilt from the stored columns: for an untouched event it
        hashes to the stored hash; for an event changed without its hash, it does not, and the
        store refuses it."""
        cursor = self._conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq",  # noqa: S608
            (after, upto),
        )
        for values in cursor:
            row = dict(zip(_NAMES, values, strict=True))
            yield int(row["seq"]), str(row["hash"]), canonical_text(row)
