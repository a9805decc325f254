"""A board found already provisioned: its own outcome in the slot, the shift figures and the
export summary, never a failure. Pure reducers, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from station.audit.summary import ExportSummary
from station.engine.events import CycleFailure, CycleResult, FailureKind, Outcome, Step
from station.line.shift import ShiftStats
from station.line.slot import Phase, SlotStatus, apply
from station.line.wording import next_action, state_line

LOCKED_AT = datetime(2025, 3, 1, 6, 30, tzinfo=UTC)
NOTE = "already provisioned: certificate 4d, locked 2025-03-01 06:30 UTC"
FAILURE = CycleFailure(FailureKind.IDENTITY, Step.READBACK, "identity.locked", "board is locked")


def result(outcome: Outcome) -> CycleResult:
    return CycleResult(
        slot="1",
        port="/dev/pts/3",
        board_uid="VB1-0001",
        failure=FAILURE if outcome is Outcome.FAILED else None,
        serial="4d",
        elapsed=1.5,
        note=NOTE if outcome is Outcome.ALREADY_PROVISIONED else "",
        provisioned_at=LOCKED_AT if outcome is Outcome.ALREADY_PROVISIONED else None,
    )


@pytest.mark.parametrize(
    ("outcome", "phase", "passed", "good"),
    [
        pytest.param(Outcome.PASSED, Phase.PASSED, True, True, id="ok/passed"),
        pytest.param(Outcome.ALREADY_PROVISIONED, Phase.ALREADY, False, True, id="ok/already"),
        pytest.param(Outcome.FAILED, Phase.FAILED, False, False, id="fail/failed"),
    ],
)
def test_each_outcome_has_its_own_phase(
    outcome: Outcome, phase: Phase, passed: bool, good: bool
) -> None:
    r = result(outcome)
    assert (r.outcome, r.passed, r.good) == (outcome, passed, good)
    status = apply(SlotStatus("1", "/dev/pts/3", Phase.RUNNING, present=True), r)
    assert status.phase is phase
    assert status.failure == r.failure


def test_the_already_provisioned_card_says_what_and_what_next() -> None:
    status = apply(
        SlotStatus("1", "/dev/pts/3", Phase.RUNNING, present=True),
        result(Outcome.ALREADY_PROVISIONED),
    )
    assert state_line(status, 0.0) == f"Checked in 1.5 s: {NOTE}"
    assert next_action(status).startswith("Nothing to do")
    assert not status.offers_reprovision


def test_shift_figures_count_already_provisioned_apart_from_pass_and_fail() -> None:
    stats = ShiftStats()
    for outcome in (Outcome.PASSED, Outcome.ALREADY_PROVISIONED, Outcome.ALREADY_PROVISIONED):
        stats = stats.record(result(outcome))
    assert (stats.passed, stats.failed, stats.already, stats.cycles) == (1, 0, 2, 1)
    assert stats.yield_pct == 100.0
    assert stats.pass_times == (1.5,)
    assert stats.failures == ()


def test_export_summary_counts_already_provisioned_apart() -> None:
    summary = ExportSummary()
    for kind, code in (
        ("STARTED", None),
        ("LOCKED", None),
        ("STARTED", None),
        ("ALREADY_PROVISIONED", None),
        ("STARTED", None),
        ("FAILED", "identity.locked"),
    ):
        summary.add({"kind": kind, "code": code, "text": "", "operator": "op-1", "slot": 1})
    out = summary.as_dict((0, None, None), {})
    assert out["cycles"] == {"passed": 1, "failed": 1, "already_provisioned": 1, "yield": 0.5}
    assert out["by_operator"] == {"op-1": {"passed": 1, "failed": 1}}
    assert [r["code"] for r in out["failure_reasons"]] == ["identity.locked"]
