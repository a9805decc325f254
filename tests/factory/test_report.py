"""`station factory report`: the fleet's figures over a window, from a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.audit import AuditDB, EventContext, NewEvent
from station.factory.local_chain import LocalChain
from station.factory.report import fleet_report
from station.factory.store import Store
from station.factory.sync import sync
from tests.factory.stations import T0, provision


def fail(audit: AuditDB, station_id: str, board: str, code: str, at: datetime) -> None:
    ctx = EventContext(station_id=station_id, operator="op2", slot="2", port="/dev/pts/8")
    audit.record_event(NewEvent("STARTED", board, data={"state": "blank"}), ctx, at)
    audit.record_event(
        NewEvent("FAILED", board, code=code, text="...", data={}), ctx, at + timedelta(seconds=9)
    )


def test_yield_reasons_cycle_times_and_expiring(
    store: Store, new_db: Callable[[str], Path]
) -> None:
    soon = datetime.now(UTC) + timedelta(days=10)
    plan = {"st1": ("L1", 3, ["board-error.KEYGEN_FAILED"]), "st2": ("L2", 2, [])}
    for station_id, (line, passes, failures) in plan.items():
        path = new_db(station_id)
        with AuditDB.open(path) as audit:
            for n in range(passes):
                at = T0 + timedelta(minutes=n)
                provision(audit, station_id, f"{station_id}-{n}", at=at, not_after=soon)
            for n, code in enumerate(failures):
                fail(audit, station_id, f"{station_id}-F{n}", code, T0 + timedelta(hours=9))
        with LocalChain(path) as chain:
            sync(store, chain, station_id, line)

    figures = fleet_report(store, T0 - timedelta(hours=1), T0 + timedelta(days=1))
    lines = {g["line"]: (g["passed"], g["failed"], g["yield"]) for g in figures["by_line"]}
    assert lines == {"L1": (3, 1, 0.75), "L2": (2, 0, 1.0)}
    operators = {g["operator"]: g["passed"] + g["failed"] for g in figures["by_operator"]}
    assert operators == {"op1": 5, "op2": 1}
    shifts = {g["shift"]: g["passed"] for g in figures["by_shift"]}
    assert shifts == {"2026-03-01 A": 5, "2026-03-01 B": 0}  # the failure came at 15:00 UTC
    assert figures["failure_reasons"] == [{"code": "board-error.KEYGEN_FAILED", "count": 1}]
    assert figures["cycle_seconds"] == {"median": 3.0, "p95": 7.5, "cycles": 6}  # interpolated
    assert len(figures["expiring"]) == 5
    assert fleet_report(store, T0, T0 + timedelta(days=1), expiring_days=1)["expiring"] == []
    # Outside the window, nothing.
    assert fleet_report(store, T0 + timedelta(days=2), T0 + timedelta(days=3))["by_line"] == []
