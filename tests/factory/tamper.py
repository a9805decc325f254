"""Alter a station's audit database outside the station, as someone covering tracks would:
drop the append-only triggers, change or delete events, recompute the chain end to end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from station.audit.chain import GENESIS, event_hash


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'events_append%'"
    ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def rewrite(path: Path, seq: int, text: str) -> None:
    """Change event ``seq``'s text and recompute every hash from there: the local chain
    verifies again."""
    with _open(path) as conn:
        conn.execute("UPDATE events SET text = ? WHERE seq = ?", (text, seq))
        prev = GENESIS
        for row in conn.execute("SELECT * FROM events ORDER BY seq").fetchall():
            fixed = {**dict(row), "prev_hash": prev}
            fixed["hash"] = event_hash(fixed)
            conn.execute(
                "UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?",
                (fixed["prev_hash"], fixed["hash"], row["seq"]),
            )
            prev = fixed["hash"]
    _close(path)


def truncate(path: Path, keep: int) -> None:
    """Delete every event after seq ``keep``."""
    with _open(path) as conn:
        conn.execute("DELETE FROM events WHERE seq > ?", (keep,))
    _close(path)


def _close(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
