"""`station audit show` reads one board's events through the events(board_uid) index: SQLite's
own query plan says so (a scan of every event took seconds at a million boards)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.audit import AuditDB, EventContext, NewEvent

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CTX = EventContext(station_id="line1-st01", operator="op7", slot=3, port="/dev/ttyUSB3")


def _interleaved(boards: int, cycles: int) -> list[tuple[NewEvent, EventContext, datetime]]:
    """Events of many boards mixed in time, as a gang jig writes them, and some of no board."""
    batch = []
    for n in range(boards * cycles):
        uid = f"B-{n % boards}"
        at = T0 + timedelta(seconds=n)
        batch.append((NewEvent("STARTED", uid, data={"n": n}), CTX, at))
        if n % 7 == 0:
            batch.append((NewEvent("CRL", data={"number": n}), CTX, at))
    return batch


def _plan(path: Path, sql: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    finally:
        conn.close()


def test_a_boards_events_come_from_the_board_index_in_chain_order(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditDB.open(path) as audit:
        audit.record_events(_interleaved(boards=10, cycles=20))
        statements: list[str] = []
        audit._conn.set_trace_callback(statements.append)
        events = audit.board_events("B-3")
        audit._conn.set_trace_callback(None)
        expected = [e for e in audit.events() if e["board_uid"] == "B-3"]
    assert events == expected
    assert len(events) == 20
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    reads = [sql for sql in statements if "FROM events" in sql]
    assert reads, statements
    for sql in reads:
        plan = _plan(path, sql)
        assert any("USING INDEX idx_events_board_uid (board_uid=?)" in step for step in plan), plan
        assert not any(step.startswith("SCAN") for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan  # no sort of the events
