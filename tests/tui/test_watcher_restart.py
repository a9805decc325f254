"""A slot's watcher that raises something nobody expected is logged, shown and started again."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import termios
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from device_protocol.messages import HelloInfo
from fixtures.board import BoardServer
from station.line.setup import LineSetup
from station.line.slot import Phase
from station.line.watch import hello_probe
from station.logbook import Logbook
from station.tui.app import StationApp
from station.tui.widgets.slot_card import SlotCard
from tests.tui.conftest import BoardSlots, line_of, phases, wait_for

SIZE = (160, 50)


class BrokenProbe:
    """HELLO through a port that raises what pyserial once let escape, while ``broken`` is set."""

    def __init__(self) -> None:
        self.broken = threading.Event()
        self.broken.set()
        self.failures = 0

    def __call__(self, port: str) -> HelloInfo | None:
        if self.broken.is_set():
            self.failures += 1
            raise termios.error(5, "Input/output error")
        return hello_probe(port)


def test_a_watcher_that_raises_is_logged_shown_and_restarted_until_the_board_is_found(
    make_setup: Callable[..., LineSetup],
    make_board: Callable[..., BoardServer],
    slots: BoardSlots,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    board = slots.boards["1"] = make_board()
    probe = BrokenProbe()
    setup = make_setup(1, probe=probe)
    station_id = setup.station.station_id
    logbook = Logbook(tmp_path / "station.log", station_id)
    app = StationApp(dataclasses.replace(setup, logbook=logbook), operator="OP1")
    caplog.set_level(logging.ERROR, logger="station")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            card = line_of(app).query_one("#slot-1", SlotCard)

            def reason() -> str:
                return str(card.query_one("#reason", Static).render())

            await wait_for(pilot, lambda: "Looking for boards failed" in reason(), "the message")
            shown = reason()
            assert "Input/output error" in shown
            assert "retrying in 1 s" in shown
            assert "USB hub" in shown
            assert card.query_one("#reason", Static).display
            assert phases(app)["1"] is Phase.EMPTY
            await wait_for(pilot, lambda: probe.failures >= 2, "a restarted watcher")
            probe.broken.clear()  # the hub came back
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.PASSED, "the board found")
            assert line_of(app).statuses["1"].board_uid == board.identity.uid
            assert "Looking for boards failed" not in reason()
            logged = [line.text for line in line_of(app).log_pane().lines_kept]
            assert any(text.startswith("Looking for boards failed") for text in logged)

    with logbook.errors_of("station"):  # as `station tui` runs the app
        asyncio.run(scenario())
    logbook.close()
    records = [r for r in caplog.records if "looking for boards failed" in r.getMessage()]
    assert records, "the failure is in the station's log"
    assert records[0].exc_info is not None, "with its traceback"
    assert isinstance(records[0].exc_info[1], termios.error)
    text = (tmp_path / "station.log").read_text()
    assert f"{station_id} slot 1 looking for boards failed (watcher 1)\nTraceback" in text
    assert "termios.error: (5, 'Input/output error')" in text
    assert f"{station_id} slot 1 PASS" in text, "the cycle after the restart is in the same log"
