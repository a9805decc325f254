"""`station audit show` reads one board's events through the events(board_uid) index: SQLite's
own query plan says so (a scan of every event took seconds at a million boards)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.audit import AuditDB, EventContext, NewEvent
from station.audit.history import board_history
from tests.audit.test_db import Board, Issued

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CTX = EventContext(station_id="line1-st01", operator="op7", slot="3", port="/dev/ttyUSB3")


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


def test_a_boards_history_is_read_through_indexes_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditDB.open(path) as audit:
        audit.record_events(_interleaved(boards=10, cycles=20))
        for n in range(3):
            issued = Issued(f"{n:040x}", f"spki-{n}", Board(uid=f"B-{n}"), subject=f"CN=B-{n}")
            audit.record_issued(issued, CTX, T0 + timedelta(hours=1, seconds=n))
        statements: list[str] = []
        audit._conn.set_trace_callback(statements.append)
        by_serial = board_history(audit, f"{2:040X}")  # a serial, as a person types it
        by_board = board_history(audit, "B-3")
        audit._conn.set_trace_callback(None)
        expected = [e for e in audit.events() if e["board_uid"] == "B-3"]
    assert by_board.events == expected
    assert len(expected) == 20
    assert by_board.certificates == []
    assert by_serial.board == "B-2"
    assert [c.serial for c in by_serial.certificates] == [f"{2:040x}"]
    assert [e["kind"] for e in by_serial.events] == ["STARTED"] * 20 + ["ISSUED"]
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 6, statements
    plans = {sql: _plan(path, sql) for sql in reads}
    for sql, plan in plans.items():
        assert all(step.startswith("SEARCH") for step in plan), (sql, plan)  # never a SCAN
        assert not any("TEMP B-TREE" in step for step in plan), (sql, plan)  # nor a sort
    events = [plan for sql, plan in plans.items() if "FROM events" in sql]
    assert len(events) == 2
    assert all("USING INDEX idx_events_board_uid (board_uid=?)" in p[0] for p in events), events
