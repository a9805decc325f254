"""A jig whose slots are named (the shipped A-D example): the audit records each slot's name."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from fixtures.board import BoardServer
from station.config import load_config
from station.engine.station import StationContext
from station.home import StationHome
from station.jig import load_jig_file
from station.line.setup import LineSetup
from station.line.slot import Phase
from station.qa.runner import QaContext
from station.tui.app import StationApp
from station.tui.dialogs.qa_report import QaReportDialog
from tests.tui.conftest import BoardSlots, phases, wait_for

MakeBoard = Callable[..., BoardServer]
NAMED_JIG = Path(str(resources.files("fixtures") / "jigs" / "gang-4-cables.toml"))


def test_events_of_a_named_slot_jig_carry_the_slot_names(
    station: StationContext, make_board: MakeBoard, slots: BoardSlots, home: Path
) -> None:
    jig = load_jig_file(NAMED_JIG)
    names = [s.name for s in jig.slots]
    assert names == ["A", "B", "C", "D"]
    for name in names:
        slots.boards[name] = make_board()
    line = LineSetup.from_jig(dataclasses.replace(station, request_timeout=0.5), jig, slots)
    qa = QaContext.from_config(load_config(StationHome(home)), station.audit)
    app = StationApp(dataclasses.replace(line, poll=0.1, qa=qa), operator="OP17")
    qa_slot: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(
                pilot, lambda: phases(app) == dict.fromkeys(names, Phase.PASSED), "four PASS"
            )
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(app.screen, QaReportDialog), "QA report")
            assert isinstance(app.screen, QaReportDialog)
            qa_slot.append(app.screen.slot)
            await pilot.press("escape")
            await pilot.press("q", "q")
            await wait_for(pilot, lambda: not app.is_running, "the app to quit")

    asyncio.run(scenario())
    events = list(station.audit.events())
    cycle_events = [e for e in events if e["kind"] != "QA"]
    for name in names:
        uid = slots.boards[name].identity.uid
        kinds = [e["kind"] for e in cycle_events if e["board_uid"] == uid]
        assert "LOCKED" in kinds
        assert {e["slot"] for e in cycle_events if e["board_uid"] == uid} == {name}
    (qa_event,) = (e for e in events if e["kind"] == "QA")
    assert qa_slot[0] in names
    assert qa_event["slot"] == qa_slot[0]
    assert station.audit.first_broken_event() is None
