"""The audit database's connections: one per live thread, handed on when a thread ends.

A slot runs each cycle on a new thread (the TUI's workers, the gang): a connection per thread
kept until close() grew by one connection and two descriptors per board.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from station.audit import AuditDB, EventContext, NewEvent

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def open_descriptors() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def on_threads(count: int, body: Callable[[int], object]) -> None:
    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_that_ended_leave_no_connection_open_behind_them(tmp_path: Path) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:

        def cycle(i: int) -> None:
            ctx = EventContext("st-1", "op", str(i + 1), f"/dev/pts/{i}")
            audit.board_certificates(f"B-{i}")
            audit.record_event(NewEvent("STARTED", f"B-{i}"), ctx, T0)

        before = open_descriptors()
        for _ in range(6):
            on_threads(8, cycle)
        # At most one connection per thread that ran at once (a connection holds the database
        # and its WAL open), not one per thread that ever ran: 48 of them.
        assert open_descriptors() - before <= 3 * 8
        assert sum(1 for _ in audit.events()) == 48
        assert audit.first_broken_event() is None


def test_live_threads_never_share_a_connection(tmp_path: Path) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:
        on_threads(4, lambda i: audit.record_event(NewEvent("X"), EventContext("st"), T0))
        held: list[object] = []
        together = threading.Barrier(6)

        def hold(_i: int) -> None:
            held.append(audit._conn)
            together.wait()  # every thread holds its connection at once

        on_threads(6, hold)
        assert len({id(conn) for conn in held}) == 6
