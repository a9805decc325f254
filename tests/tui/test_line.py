"""The operator's app driven by a pilot over virtual boards on real ptys, with a real audit DB."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.widgets import Input, Static

from fixtures.board import BoardServer, Faults
from station.audit import CertificateStatus
from station.engine.cycle import Cycle, CycleOptions
from station.engine.station import StationContext
from station.line.setup import LineSetup
from station.line.slot import Phase
from station.tui.app import StationApp
from station.tui.dialogs.confirm import ConfirmDialog, QuitDialog
from station.tui.dialogs.label import LabelDialog
from station.tui.screens.signin import SignInScreen
from station.tui.widgets.shift_counters import ShiftCounters
from station.tui.widgets.slot_card import SlotCard
from tests.tui.conftest import BoardSlots, line_of, phases, wait_for

MakeBoard = Callable[..., BoardServer]
SIZE = (160, 50)


def test_sign_in_then_four_boards_pass_and_the_counters_follow(
    make_setup: Callable[..., LineSetup], make_board: MakeBoard, slots: BoardSlots
) -> None:
    for n in range(4):
        slots.boards[str(n + 1)] = make_board()
    app = StationApp(make_setup(4))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.screen, SignInScreen)
            await pilot.press(*"bad id!", "enter")
            assert isinstance(app.screen, SignInScreen), "an invalid id is refused"
            assert app.screen.query_one(Input).value == ""
            await pilot.press(*"OP17", "ctrl+j")  # a scanner ending its code with LF
            await wait_for(
                pilot,
                lambda: app.line is not None and set(phases(app).values()) == {Phase.PASSED},
                "four PASS cards",
            )
            line = line_of(app)
            assert line.operator == "OP17"
            counters = line.query_one(ShiftCounters)
            assert (counters.stats.passed, counters.stats.failed) == (4, 0)
            assert counters.stats.yield_pct == 100.0
            assert counters.stats.median_seconds is not None
            for n in range(1, 5):
                assert line.statuses[str(n)].board_uid == slots.boards[str(n)].identity.uid
            rendered = str(counters.render())
            assert "PASSED 4" in rendered
            assert "100.0%" in rendered
            await pilot.press("q", "q")
            await wait_for(pilot, lambda: not app.is_running, "the app to quit")
        assert app.return_value is not None
        assert app.return_value.passed == 4

    asyncio.run(scenario())
    for board in slots.boards.values():
        assert board.device.element.locked


def test_a_fail_shows_its_reason_and_a_retry_passes(
    make_setup: Callable[..., LineSetup], make_board: MakeBoard, slots: BoardSlots
) -> None:
    board = slots.boards["1"] = make_board(Faults(flash_fail=True))
    app = StationApp(make_setup(1), operator="OP1")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.FAILED, "a FAIL")
            status = line_of(app).statuses["1"]
            assert status.failure is not None
            assert status.failure.code == "board-error.STORAGE_FAILED"
            assert "flash write failed" in status.failure.message
            card = line_of(app).query_one("#slot-1", SlotCard)
            assert "flash write failed" in str(card.query_one("#reason", Static).render())
            assert "R: retry" in str(card.query_one("#action", Static).render())
            assert card.has_class("-failed")
            board.faults = Faults()  # the operator reseats the board; this time it works
            await pilot.press("r")
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.PASSED, "a PASS on retry")
            stats = line_of(app).stats
            assert (stats.passed, stats.failed) == (1, 1)
            assert stats.yield_pct == 50.0

    asyncio.run(scenario())


def test_re_provisioning_asks_first_and_honours_both_answers(
    make_setup: Callable[..., LineSetup], make_board: MakeBoard, slots: BoardSlots
) -> None:
    board = slots.boards["1"] = make_board()
    app = StationApp(make_setup(1), operator="OP1")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.PASSED, "the first PASS")
            first = line_of(app).statuses["1"].serial
            board.stop()  # taken off the jig, erased, and put back
            await wait_for(pilot, lambda: not line_of(app).statuses["1"].present, "removal")
            board.device.element.wipe()
            board.start()
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.FAILED, "the refusal")
            status = line_of(app).statuses["1"]
            assert status.failure is not None
            assert status.failure.code == "identity.already-provisioned"
            assert status.offers_reprovision

            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog), "no")
            await pilot.pause(0.3)
            assert phases(app)["1"] is Phase.FAILED, "declined: nothing happens"
            assert any("declined" in line.text for line in line_of(app).log_pane().lines_kept)

            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
            await pilot.click("#yes")
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.PASSED, "re-provisioned")
            second = line_of(app).statuses["1"].serial
            assert second != first
            old = line_of(app).setup.station.audit.certificate(first or "")
            assert old is not None
            assert old.status is CertificateStatus.REVOKED

    asyncio.run(scenario())


def test_quitting_while_busy_asks_and_waits_for_the_cycle(
    make_setup: Callable[..., LineSetup], make_board: MakeBoard, slots: BoardSlots
) -> None:
    board = slots.boards["1"] = make_board()
    board.keygen_gate.clear()  # the cycle waits in KEYGEN (with BUSY) until the test lets it go
    app = StationApp(make_setup(1, timeout=1.5), operator="OP1")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.RUNNING, "a running cycle")
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, QuitDialog), "the question")
            assert "Slot 1 is working" in str(app.screen.query_one("#body").render())
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, QuitDialog), "stay")
            assert app.is_running
            assert phases(app)["1"] is Phase.RUNNING
            await pilot.press("q", "q")
            await pilot.pause(0.1)
            assert phases(app)["1"] is Phase.RUNNING
            assert app.is_running, "the station waits for the running cycle"
            assert line_of(app).closing
            board.keygen_gate.set()
            await wait_for(pilot, lambda: not app.is_running, "the quit after the cycle")
        assert app.return_value is not None
        assert app.return_value.passed == 1

    asyncio.run(scenario())
    station = app.setup.station
    kinds = [e["kind"] for e in station.audit.events() if e["board_uid"] == board.identity.uid]
    assert kinds[-1] == "LOCKED", "the cycle ended and was recorded before the station quit"


def test_the_label_cross_check_rejects_a_wrong_label(
    make_setup: Callable[..., LineSetup], make_board: MakeBoard, slots: BoardSlots
) -> None:
    board = slots.boards["1"] = make_board()
    app = StationApp(make_setup(1, label_scan=True), operator="OP1")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, LabelDialog), "the label prompt")
            assert phases(app)["1"] is Phase.READY
            await pilot.press(*"VB1-000000000000", "enter")
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.FAILED, "the refusal")
            status = line_of(app).statuses["1"]
            assert status.failure is not None
            assert status.failure.code == "identity.label-mismatch"
            assert "the label says VB1-000000000000" in status.failure.message
            assert board.device.element.key_type is None, "KEYGEN never ran"
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, LabelDialog), "a new scan")
            await pilot.press(*board.identity.uid, "enter")
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.PASSED, "a PASS")

    asyncio.run(scenario())


def test_a_finished_board_back_on_the_jig_gets_a_neutral_already_provisioned_card(
    make_setup: Callable[..., LineSetup],
    make_board: MakeBoard,
    slots: BoardSlots,
    station: StationContext,
) -> None:
    done = make_board()
    first = Cycle(station, "1", done.url, CycleOptions(operator="OP17")).run()
    assert first.passed, first.failure
    slots.boards["1"], slots.boards["2"] = done, make_board()
    app = StationApp(make_setup(2))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"OP17", "enter")
            await wait_for(
                pilot,
                lambda: (
                    app.line is not None and phases(app) == {"1": Phase.ALREADY, "2": Phase.PASSED}
                ),
                "an ALREADY PROVISIONED card and a PASS card",
            )
            line = line_of(app)
            card = line.query_one("#slot-1", SlotCard)
            assert card.has_class("-already")
            assert not card.has_class("-failed")
            assert not card.has_class("-passed")
            banner = str(card.query_one("#banner", Static).render())
            assert "ALREADY PROVISIONED" in banner
            assert f"certificate {first.serial}" in banner
            assert not card.query_one("#reason", Static).display
            action = str(card.query_one("#action", Static).render())
            assert "Nothing to do" in action
            counters = line.query_one(ShiftCounters)
            assert (counters.stats.passed, counters.stats.failed) == (1, 0)
            assert counters.stats.already == 1
            assert counters.stats.yield_pct == 100.0
            assert "ALREADY 1" in str(counters.render())
            await pilot.press("q", "q")
            await wait_for(pilot, lambda: not app.is_running, "the app to quit")

    asyncio.run(scenario())
