"""The line's controller: events in, effects out. No Textual, no ptys, no threads, no waiting."""

from __future__ import annotations

from dataclasses import replace

from station.engine.cycle import CycleOptions
from station.engine.events import (
    BoardIdentified,
    ConsoleText,
    CycleFailure,
    CycleResult,
    FailureKind,
    Step,
    StepStarted,
)
from station.line.controller import LabelRequest, LineController, LineRules
from station.line.effects import (
    AskLabel,
    ConfirmReprovision,
    Effect,
    EndShift,
    Exit,
    Log,
    Notify,
    RunQa,
    ScheduleSwap,
    ShowError,
    ShowStats,
    ShowStatus,
    StartCycle,
    StopWatching,
    Swap,
    Watch,
)
from station.line.slot import BoardSeen, Phase, SlotStatus, SlotVacant

POLICY = CycleFailure(
    FailureKind.POLICY, Step.POLICY, "policy.key.weak", "Board refused; set aside."
)
AGAIN = CycleFailure(
    FailureKind.IDENTITY, Step.HELLO, "identity.already-provisioned", "Seen before."
)


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def line(
    slots: int = 2, *, clock: Clock | None = None, **rules: object
) -> tuple[LineController, list[Effect]]:
    """A controller over slots ``1``..``slots``, started; and what starting it asked for."""
    names = tuple(str(n + 1) for n in range(slots))
    controller = LineController(
        LineRules(names, "OP1", **rules),  # type: ignore[arg-type]
        clock or Clock(),
    )
    return controller, controller.start()


def seen(slot: str, uid: str = "VB1-1") -> BoardSeen:
    return BoardSeen(slot, f"/dev/pts/{slot}", uid, "blank", "VB-1", "1.0")


def result(slot: str, failure: CycleFailure | None = None, uid: str = "VB1-1") -> CycleResult:
    serial = None if failure else "3f2a"
    return CycleResult(
        slot=slot,
        port=f"/dev/pts/{slot}",
        board_uid=uid,
        failure=failure,
        serial=serial,
        elapsed=2.5,
    )


def kinds(effects: list[Effect]) -> list[str]:
    return [type(e).__name__ for e in effects]


def running(controller: LineController, slot: str, uid: str = "VB1-1") -> list[Effect]:
    """A board arrives on ``slot`` and (auto start) its cycle begins."""
    return controller.board_seen(seen(slot, uid), controller.state.slots[slot].watch)


def test_ok_start_watches_every_slot_once() -> None:
    _, effects = line(3)
    assert effects == [Watch("1", None, 1), Watch("2", None, 1), Watch("3", None, 1)]


def test_ok_a_board_seen_starts_its_cycle_at_once_on_an_auto_line() -> None:
    clock = Clock(250.0)
    controller, _ = line(clock=clock)
    effects = controller.board_seen(seen("1"), 1)
    ready = SlotStatus("1", "/dev/pts/1", Phase.READY, "VB1-1", present=True)
    assert effects[:2] == [
        ShowStatus(ready),
        Log("1", "board VB1-1 (VB-1 fw 1.0, blank) on /dev/pts/1"),
    ]
    assert effects[2] == StopWatching("1")
    assert isinstance(effects[3], ShowStatus)
    assert effects[3].status.phase is Phase.RUNNING
    assert effects[3].status.started_at == 250.0, "the injected clock stamps the start"
    assert effects[4:] == [
        Log("1", "cycle started"),
        StartCycle("1", "/dev/pts/1", CycleOptions(operator="OP1")),
    ]
    assert controller.statuses["1"].busy
    assert controller.busy_slots() == ["1"]
    assert controller.state.slots["1"].watch == 2, "the watcher's later reports are stale"


def test_ok_a_stale_watcher_is_ignored() -> None:
    controller, _ = line()
    running(controller, "1")
    assert controller.board_seen(seen("1", "VB1-2"), 1) == []
    assert controller.slot_quiet(SlotVacant("1", "/dev/pts/1"), 1) == []
    assert controller.slot_quiet(SlotVacant("1", "/dev/pts/1"), 2) == [], "busy: no vacancy"
    assert controller.statuses["1"].phase is Phase.RUNNING


def test_ok_a_quiet_slot_shows_empty() -> None:
    controller, _ = line()
    effects = controller.slot_quiet(SlotVacant("2", None), 1)
    assert effects == [ShowStatus(SlotStatus("2", None))]


def test_ok_console_text_goes_to_the_log_only() -> None:
    controller, _ = line()
    running(controller, "1")
    before = controller.state
    assert controller.engine_event(ConsoleText("1", "I (42) boot")) == [
        Log("1", "I (42) boot", console=True)
    ]
    assert controller.state == before


def test_ok_a_pass_counts_watches_for_the_next_board_and_schedules_the_swap() -> None:
    pauses: list[bool] = []

    def pause_after(passed: bool) -> float:
        pauses.append(passed)
        return 1.5

    controller, _ = line(swap_pause=pause_after)
    running(controller, "1")
    step = controller.engine_event(StepStarted("1", Step.KEYGEN, 0.1))
    assert kinds(step) == ["ShowStatus"]
    effects = controller.engine_event(result("1"))
    assert kinds(effects) == ["ShowStatus", "ShowStats", "Log", "Watch", "ScheduleSwap"]
    assert controller.statuses["1"].phase is Phase.PASSED
    assert effects[1] == ShowStats(controller.stats)
    assert controller.stats.passed == 1
    assert effects[2:] == [
        Log("1", "PASS VB1-1 serial 3f2a in 2.5 s"),
        Watch("1", "VB1-1", 3),
        ScheduleSwap("1", 1.5, 1),
    ]
    assert pauses == [True]
    assert controller.swap_due("1", 1) == [Swap("1")]


def test_ok_a_fail_is_logged_with_its_code_and_a_retry_starts_a_new_cycle() -> None:
    controller, _ = line()
    running(controller, "1")
    effects = controller.engine_event(result("1", POLICY))
    assert Log("1", "FAIL VB1-1 policy.key.weak: Board refused; set aside.") in effects
    assert not any(isinstance(e, ScheduleSwap) for e in effects), "no demo feeder here"
    assert controller.stats.failed == 1
    effects = controller.retry_pressed("1")
    assert kinds(effects) == ["StopWatching", "ShowStatus", "Log", "StartCycle"]
    assert controller.statuses["1"].failure is None


def test_fail_keys_on_a_slot_with_nothing_to_do_warn() -> None:
    controller, _ = line(start="key")
    assert controller.start_pressed("1") == [Notify("Slot 1: no board waiting to start.")]
    assert controller.retry_pressed("1") == [Notify("Slot 1: nothing to retry.")]
    assert controller.reprovision_pressed("1") == [Notify("Slot 1: nothing to re-provision.")]
    assert controller.qa_pressed("1") == [Notify("QA is not set up on this station.")]


def test_ok_a_key_line_waits_for_the_start_key() -> None:
    controller, _ = line(start="key")
    effects = running(controller, "1")
    assert kinds(effects) == ["ShowStatus", "Log"]
    assert controller.statuses["1"].phase is Phase.READY
    assert kinds(controller.start_pressed("1")) == [
        "StopWatching",
        "ShowStatus",
        "Log",
        "StartCycle",
    ]


def test_ok_labels_are_asked_one_slot_at_a_time_in_order() -> None:
    controller, _ = line(3, label_scan=True)
    assert running(controller, "1")[-1] == AskLabel("1")
    assert kinds(running(controller, "2", "VB1-2")) == ["ShowStatus", "Log"], "queued"
    assert controller.label_pressed("2") == [], "already queued"
    assert controller.state.labels == (LabelRequest("2", False),)
    effects = controller.label_scanned("VB1-1")
    assert effects[0] == Log("1", "label scanned: VB1-1")
    assert effects[-2] == StartCycle(
        "1", "/dev/pts/1", CycleOptions(operator="OP1", expect_id="VB1-1")
    )
    assert effects[-1] == AskLabel("2"), "the next slot's label once this one is answered"
    assert controller.label_pressed("1") == [], "a running slot is not asked"
    effects = controller.label_scanned(None)
    assert effects == [Log("2", "label scan put off: press L on the slot to scan it")]
    assert controller.statuses["2"].phase is Phase.READY
    assert controller.state.label_open is None


def test_ok_a_label_for_a_board_that_left_starts_nothing() -> None:
    controller, _ = line(label_scan=True)
    running(controller, "1")
    controller.slot_quiet(SlotVacant("1", "/dev/pts/1"), 1)
    assert controller.statuses["1"].phase is Phase.EMPTY
    assert controller.label_scanned("VB1-1") == []


def test_ok_a_retry_on_a_label_line_asks_the_label_again() -> None:
    controller, _ = line(label_scan=True)
    running(controller, "1")
    controller.label_scanned("VB1-9")
    controller.engine_event(result("1", POLICY))
    assert controller.retry_pressed("1") == [AskLabel("1")]
    assert controller.start_pressed("1") == [Notify("Slot 1: no board waiting to start.")]


def test_ok_reprovision_asks_first_and_honours_both_answers() -> None:
    controller, _ = line()
    running(controller, "1")
    controller.engine_event(result("1", AGAIN))
    assert controller.reprovision_pressed("1") == [ConfirmReprovision("1", "VB1-1")]
    assert controller.reprovision_answered("1", "VB1-1", False) == [
        Log("1", "re-provisioning VB1-1: declined")
    ]
    assert controller.statuses["1"].phase is Phase.FAILED
    effects = controller.reprovision_answered("1", "VB1-1", True)
    assert effects[0] == Log("1", "re-provisioning VB1-1: confirmed")
    assert Log("1", "cycle started (re-provision)") in effects
    assert effects[-1] == StartCycle(
        "1", "/dev/pts/1", CycleOptions(operator="OP1", reprovision=True)
    )


def test_ok_qa_runs_on_an_idle_board_only() -> None:
    controller, _ = line(qa=True, start="key")
    assert controller.qa_pressed("1") == [Notify("Slot 1: no idle board to verify.")]
    running(controller, "1")
    assert controller.qa_pressed("1") == [Log("1", "QA verify started"), RunQa("1", "/dev/pts/1")]
    controller.start_pressed("1")
    assert controller.qa_pressed("1") == [Notify("Slot 1: no idle board to verify.")]


def test_ok_a_swap_timer_from_an_older_verdict_or_a_busy_slot_does_nothing() -> None:
    controller, _ = line(swap_pause=lambda passed: 1.5 if passed else 8.0)
    running(controller, "1")
    effects = controller.engine_event(result("1", POLICY))
    assert effects[-1] == ScheduleSwap("1", 8.0, 1)
    controller.retry_pressed("1")
    assert controller.swap_due("1", 1) == [], "busy with the retry"
    controller.engine_event(result("1"))
    assert controller.swap_due("1", 1) == [], "a newer verdict came"
    assert controller.swap_due("1", 2) == [Swap("1")]
    assert controller.board_swapped("1", "VB1-2") == [
        Log("1", "demo: next board VB1-2 placed on the slot")
    ]


def test_ok_quitting_while_idle_exits_at_once() -> None:
    controller, _ = line()
    effects = controller.quit()
    assert effects == [StopWatching("1"), StopWatching("2"), Exit(controller.stats)]
    assert controller.closing


def test_ok_quitting_while_busy_waits_for_the_cycle_and_starts_nothing_new() -> None:
    controller, _ = line(3, swap_pause=lambda passed: 1.5, label_scan=False)
    running(controller, "1")
    running(controller, "2", "VB1-2")
    effects = controller.quit()
    assert effects[3:] == [
        Log(None, "Quitting once the running cycles end (1, 2)"),
        Notify(
            "Waiting for running cycles to finish, then quitting.",
            severity="information",
            timeout=30,
        ),
    ]
    assert controller.board_seen(seen("3", "VB1-3"), 1) == [], "no new board while closing"
    effects = controller.engine_event(result("1"))
    assert kinds(effects) == ["ShowStatus", "ShowStats", "Log"], "no watch, no swap"
    effects = controller.engine_event(result("2", POLICY, "VB1-2"))
    assert effects[-1] == Exit(controller.stats)
    assert (controller.stats.passed, controller.stats.failed) == (1, 1)


def test_ok_the_shift_ends_only_when_no_cycle_runs() -> None:
    controller, _ = line()
    running(controller, "1")
    assert controller.end_shift() == []
    assert not controller.closing
    controller.engine_event(result("1"))
    effects = controller.end_shift()
    assert effects == [Log(None, "Shift ended"), StopWatching("1"), StopWatching("2"), EndShift()]
    assert controller.closing


def test_ok_a_crashed_cycle_worker_fails_its_slot_and_shows_the_error() -> None:
    controller, _ = line()
    running(controller, "1")
    controller.engine_event(StepStarted("1", Step.DELIVER, 1.0))
    error = RuntimeError("disk gone")
    effects = controller.worker_crashed("cycle slot 1", error, cycle_slot="1")
    status = controller.statuses["1"]
    assert status.phase is Phase.FAILED
    assert status.failure == CycleFailure(
        FailureKind.STATION,
        Step.DELIVER,
        "station.worker",
        "Station error on slot 1: disk gone; call the line engineer.",
    )
    assert effects == [
        Log(None, "cycle slot 1 crashed: RuntimeError('disk gone')"),
        ShowStatus(status),
        ShowError("cycle slot 1 stopped", "RuntimeError('disk gone')"),
    ]


def test_ok_a_crash_of_the_last_running_cycle_while_quitting_exits() -> None:
    controller, _ = line()
    running(controller, "2")
    controller.quit()
    effects = controller.worker_crashed("cycle slot 2", OSError("EIO"), cycle_slot="2")
    assert effects[-2:] == [
        Exit(controller.stats),
        ShowError("cycle slot 2 stopped", "OSError('EIO')"),
    ]


def test_ok_a_crashed_watcher_only_reports() -> None:
    controller, _ = line()
    effects = controller.worker_crashed("watch slot 1", ValueError("x"))
    assert kinds(effects) == ["Log", "ShowError"]
    assert controller.statuses["1"] == SlotStatus("1")


def test_ok_display_puts_a_status_on_its_card_as_is() -> None:
    controller, _ = line()
    status = replace(SlotStatus("2", "/dev/ttyJIG2"), phase=Phase.FAILED, failure=POLICY)
    assert controller.display(status) == [ShowStatus(status)]
    assert controller.statuses["2"] == status


def test_ok_the_card_shows_the_board_identified_in_this_cycle() -> None:
    """A retry after the board was swapped: once HELLO answers, the card names the board on the
    jig now, not the one the failure was about."""
    controller, _ = line()
    running(controller, "1", uid="VB1-1")
    controller.engine_event(result("1", POLICY, uid="VB1-1"))
    controller.retry_pressed("1")
    assert controller.statuses["1"].board_uid == "VB1-1", "nothing answered yet"
    effects = controller.engine_event(BoardIdentified("1", "VB1-2", "VB-1", "1.0", "blank"))
    assert len(effects) == 1
    assert isinstance(effects[0], ShowStatus)
    assert effects[0].status.board_uid == "VB1-2"
    assert effects[0].status.phase is Phase.RUNNING
    assert controller.statuses["1"].board_uid == "VB1-2"
