"""`station factory report`: the fleet's figures over a window, from a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.audit import AuditDB, EventContext, NewEvent
from station.config import parse_config
from station.factory.local_chain import LocalChain
from station.factory.report import fleet_report
from station.factory.store import Store
from station.factory.sync import sync
from station.home import StationHome
from tests.factory.stations import T0, provision

HOME = StationHome(Path("/nonexistent/home"))


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


def test_shifts_from_the_factory_section(store: Store, new_db: Callable[[str], Path]) -> None:
    """Shifts and time zone from [factory]: Berlin's 05:30, 13:30 and 21:30 starts (CET, UTC+1
    in March); a night shift keeps the date of the evening it started."""
    plan = parse_config(
        {
            "station": {"id": "st1", "org": "Acme"},
            "factory": {
                "timezone": "Europe/Berlin",
                "shifts": ["Early 05:30", "Late 13:30", "Night 21:30"],
            },
        },
        HOME,
        "station.toml",
    ).factory.shifts
    ends = {  # LOCKED comes 3 s after the cycle's time
        "b1": T0 - timedelta(hours=2, minutes=1),  # 04:59 Berlin: the night of Feb 28
        "b2": T0,  # 07:00 Berlin
        "b3": T0 + timedelta(hours=7, minutes=30),  # 14:30 Berlin
        "b4": T0 + timedelta(hours=17),  # 00:00 Berlin, March 2: the night of March 1
    }
    path = new_db("st1")
    with AuditDB.open(path) as audit:
        for board, at in ends.items():
            provision(audit, "st1", board, at=at)
    with LocalChain(path) as chain:
        sync(store, chain, "st1", "L1")
    window = (T0 - timedelta(days=1), T0 + timedelta(days=2))
    shifts = {
        g["shift"]: g["passed"] for g in fleet_report(store, *window, shifts=plan)["by_shift"]
    }
    assert shifts == {
        "2026-02-28 Night": 1,
        "2026-03-01 Early": 1,
        "2026-03-01 Late": 1,
        "2026-03-01 Night": 1,
    }
    default = {g["shift"] for g in fleet_report(store, *window)["by_shift"]}
    assert default == {"2026-02-28 C", "2026-03-01 A", "2026-03-01 C"}  # UTC: b3 at 13:30 is A
