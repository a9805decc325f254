"""Snapshots of the main screen at 160x50: idle, mid-cycle, and after a mix of PASS and FAIL.

No boards and no wall clock: a fixed station clock, fixed ids and serials, a probe that never
finds a board, and the cards' states injected as the engine would produce them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from station.engine.events import CycleFailure, CycleResult, FailureKind, Step
from station.engine.station import StationContext
from station.line.setup import LineSetup
from station.line.shift import ShiftStats
from station.line.slot import Phase, SlotStatus
from station.tui.app import StationApp
from tests.tui.conftest import FIXED_WALL, line_of, wait_for

SIZE = (160, 50)
NOW = 1000.0
Snap = Callable[..., bool]


class FixedPorts:
    def port(self, slot: str) -> str | None:
        return f"/dev/ttyJIG{slot}"


def make_app(station: StationContext) -> StationApp:
    setup = LineSetup(
        station=station,
        slots=("1", "2", "3", "4"),
        source=FixedPorts(),
        poll=0.1,
        clock=lambda: NOW,
        wall=lambda: FIXED_WALL,
        probe=lambda port: None,
        title="Provisioning station",
    )
    return StationApp(setup, operator="OP17")


def prepare(*statuses: SlotStatus, stats: ShiftStats | None = None, log: tuple[str, ...] = ()):
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, StationApp)
        await wait_for(
            pilot,
            lambda: app.line is not None and all(s.port for s in app.line.statuses.values()),
            "every slot looked at once",
        )
        line = line_of(app)
        for status in statuses:
            line.display_status(status)
        if stats is not None:
            line.stats = stats
            line.show_stats(stats)
        for entry in log:
            slot, _, text = entry.partition(" ")
            line.log_line(slot or None, text)
        await pilot.pause()

    return run_before


def running(slot: str, uid: str, step: Step, seconds: float, progress: tuple[int, int] | None):
    return SlotStatus(
        slot,
        f"/dev/ttyJIG{slot}",
        Phase.RUNNING,
        uid,
        True,
        step=step,
        progress=progress,
        started_at=NOW - seconds,
    )


POLICY = CycleFailure(
    FailureKind.POLICY,
    Step.POLICY,
    "policy.key.weak",
    "Board on slot 2 sent a CSR the station refuses (RSA 1024 is too small); set the board "
    "aside and report it to the firmware team.",
)
AGAIN = CycleFailure(
    FailureKind.IDENTITY,
    Step.HELLO,
    "identity.already-provisioned",
    "Board on slot 3: board VB1-00000000C0DE was provisioned before (certificate 5a1e...); "
    "re-provision it only if that is intended",
)


def result(slot: str, failure: CycleFailure | None, seconds: float) -> CycleResult:
    return CycleResult(
        slot=slot,
        port=f"/dev/ttyJIG{slot}",
        board_uid="VB1-X",
        failure=failure,
        serial=None,
        elapsed=seconds,
    )


def test_idle(snap_compare: Snap, station: StationContext) -> None:
    assert snap_compare(make_app(station), terminal_size=SIZE, run_before=prepare())


def test_mid_cycle(snap_compare: Snap, station: StationContext) -> None:
    before = prepare(
        running("1", "VB1-00000000A001", Step.KEYGEN, 1.6, (40, 100)),
        running("2", "VB1-00000000A002", Step.DELIVER, 2.3, (1024, 2048)),
        SlotStatus("3", "/dev/ttyJIG3", Phase.READY, "VB1-00000000A003", True),
        log=(
            "1 board VB1-00000000A001 (VB-1 fw 1.0.0, blank) on /dev/ttyJIG1",
            "1 cycle started",
            "2 cycle started",
        ),
    )
    assert snap_compare(make_app(station), terminal_size=SIZE, run_before=before)


def test_after_pass_and_fail(snap_compare: Snap, station: StationContext) -> None:
    stats = ShiftStats()
    for r in (result("1", None, 2.4), result("4", None, 2.9), result("2", POLICY, 0.8)):
        stats = stats.record(r)
    stats = stats.record(result("3", AGAIN, 0.2))
    passed = SlotStatus(
        "1",
        "/dev/ttyJIG1",
        Phase.PASSED,
        "VB1-00000000B001",
        True,
        step=Step.LOCK,
        elapsed=2.4,
        serial="3f2a",
    )
    before = prepare(
        passed,
        SlotStatus(
            "2",
            "/dev/ttyJIG2",
            Phase.FAILED,
            "VB1-00000000B002",
            True,
            Step.POLICY,
            None,
            None,
            0.8,
            POLICY,
        ),
        SlotStatus(
            "3",
            "/dev/ttyJIG3",
            Phase.FAILED,
            "VB1-00000000C0DE",
            True,
            Step.HELLO,
            None,
            None,
            0.2,
            AGAIN,
        ),
        running("4", "VB1-00000000B004", Step.PROVE, 2.1, None),
        stats=stats,
        log=(
            "1 PASS VB1-00000000B001 serial 3f2a in 2.4 s",
            "2 FAIL VB1-00000000B002 policy.key.weak",
            "3 FAIL VB1-00000000C0DE identity.already-provisioned",
        ),
    )
    assert snap_compare(make_app(station), terminal_size=SIZE, run_before=before)
