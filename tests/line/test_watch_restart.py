"""A slot's watcher that failed: shown on the card, restarted after a bounded back-off. Pure."""

from __future__ import annotations

import termios

import pytest

from station.line.controller import LineController
from station.line.effects import Effect, Log, ScheduleWatch, ShowStatus, Watch
from station.line.restart import Backoff
from station.line.slot import Phase, SlotVacant
from tests.line.test_controller import POLICY, Clock, line, result, running

ERROR = termios.error(5, "Input/output error")


def fail(controller: LineController, slot: str = "1") -> list[Effect]:
    """The slot's current watcher raises."""
    return controller.watcher_failed(slot, controller.state.slots[slot].watch, ERROR)


def delays(controller: LineController, times: int, slot: str = "1") -> list[float]:
    """The slot's watcher fails at once ``times`` times; the back-off before each restart."""
    seen = []
    for _ in range(times):
        schedule = fail(controller, slot)[-1]
        assert isinstance(schedule, ScheduleWatch)
        seen.append(schedule.delay)
        assert controller.watch_due(slot, schedule.number) != []
    return seen


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0), (6, 30.0), (7, 30.0), (10_000, 30.0)],
    ids=lambda v: str(v),
)
def test_ok_the_backoff_doubles_up_to_its_cap(failures: int, delay: float) -> None:
    assert Backoff().delay(failures) == delay


def test_ok_a_watcher_that_ran_well_before_failing_starts_the_count_afresh() -> None:
    backoff = Backoff()
    assert backoff.failures_after(4, ran=59.9) == 5
    assert backoff.failures_after(4, ran=60.0) == 1
    assert backoff.failures_after(0, ran=0.0) == 1


def test_ok_a_failed_watcher_shows_on_its_card_and_a_new_one_starts_after_the_backoff() -> None:
    controller, _ = line()
    effects = fail(controller)
    status = controller.statuses["1"]
    assert status.phase is Phase.EMPTY
    assert status.watch_error == (
        "Looking for boards failed (termios.error \"(5, 'Input/output error')\"); retrying in "
        "1 s. If it repeats, check the jig's USB hub and cable, or restart the station."
    )
    assert effects == [
        Log("1", status.watch_error),
        ShowStatus(status),
        ScheduleWatch("1", 1.0, 1),
    ]
    assert controller.statuses["2"].watch_error == "", "the other slot is untouched"
    assert controller.watch_due("1", 1) == [Watch("1", None, 2)]
    assert delays(controller, 7) == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert "retrying in 30 s" in controller.statuses["1"].watch_error


def test_ok_the_restarted_watcher_clears_the_message_once_it_reports() -> None:
    controller, _ = line()
    fail(controller)
    controller.watch_due("1", 1)
    effects = controller.slot_quiet(SlotVacant("1", "/dev/pts/1"), 2)
    assert len(effects) == 1
    assert isinstance(effects[0], ShowStatus)
    assert effects[0].status.watch_error == ""


def test_ok_a_board_found_resets_the_backoff() -> None:
    controller, _ = line()
    assert delays(controller, 3) == [1.0, 2.0, 4.0]
    running(controller, "1")  # the restarted watcher found a board; its cycle runs
    controller.engine_event(result("1"))
    assert delays(controller, 2) == [1.0, 2.0]


def test_ok_a_watcher_that_ran_well_for_a_while_resets_the_backoff() -> None:
    clock = Clock()
    controller, _ = line(clock=clock)
    assert delays(controller, 3) == [1.0, 2.0, 4.0]
    clock.now += 59
    assert delays(controller, 1) == [8.0]
    clock.now += 60
    assert delays(controller, 2) == [1.0, 2.0]


def test_ok_the_restart_keeps_ignoring_the_board_that_just_finished_until_the_slot_is_quiet() -> (
    None
):
    controller, _ = line()
    running(controller, "1", uid="VB1-7")
    assert controller.engine_event(result("1", uid="VB1-7"))[-1] == Watch("1", "VB1-7", 3)
    fail(controller)
    assert controller.watch_due("1", 3) == [Watch("1", "VB1-7", 4)]
    controller.slot_quiet(SlotVacant("1", "/dev/pts/1"), 4)
    fail(controller)
    assert controller.watch_due("1", 4) == [Watch("1", None, 5)]


@pytest.mark.parametrize("stop", ["stop", "quit", "end_shift"])
def test_fail_no_restart_once_the_slot_was_told_to_stop(stop: str) -> None:
    controller, _ = line()
    fail(controller)
    getattr(controller, stop)()
    assert controller.watch_due("1", 1) == [], "the timer set before the stop does nothing"
    assert fail(controller, "2") == [], "a failure reported after the stop is not restarted"
    assert controller.watch_due("2", 1) == []


def test_fail_no_restart_of_a_watcher_a_cycle_or_a_newer_watcher_replaced() -> None:
    controller, _ = line()
    running(controller, "1")  # watcher 1 was told to stop: the cycle holds the port
    assert controller.watcher_failed("1", 1, ERROR) == [], "a late failure of watcher 1"
    assert controller.watch_due("1", 1) == []
    controller.engine_event(result("1", POLICY))  # a FAIL; watcher 3 starts
    fail(controller)  # watcher 3 fails; the operator retries before its timer fires
    controller.retry_pressed("1")
    assert controller.statuses["1"].phase is Phase.RUNNING
    assert controller.statuses["1"].watch_error == "", "the cycle's card has no stale message"
    assert controller.watch_due("1", 3) == [], "the cycle holds the slot"
