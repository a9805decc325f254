"""QA of a slot's board from the operator's screen (key V): the same checks as `qa verify`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Label, Static

from fixtures.board import BoardServer, Faults
from station.config import load_config
from station.home import StationHome
from station.line.setup import LineSetup
from station.line.slot import Phase
from station.qa.runner import QaContext
from station.tui.app import StationApp
from station.tui.dialogs.qa_report import QaReportDialog
from tests.tui.conftest import BoardSlots, phases, wait_for

MakeBoard = Callable[..., BoardServer]


def test_qa_from_the_screen_passes_then_names_the_failed_check(
    make_setup: Callable[..., LineSetup], make_board: MakeBoard, slots: BoardSlots, home: Path
) -> None:
    board = slots.boards["1"] = make_board()
    setup = make_setup(1)
    qa = QaContext.from_config(load_config(StationHome(home)), setup.station.audit)
    app = StationApp(LineSetup(**{**setup.__dict__, "qa": qa}), operator="QA2")

    async def verify() -> tuple[str, str]:
        dialog = app.screen
        assert isinstance(dialog, QaReportDialog)
        verdict = str(dialog.query_one("#verdict", Label).render())
        checks = str(dialog.query_one("#checks", Static).render())
        return verdict, checks

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(pilot, lambda: phases(app) == {"1": Phase.PASSED}, "PASS")
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(app.screen, QaReportDialog), "QA report")
            verdict, checks = await verify()
            assert "PASS" in verdict
            assert board.identity.uid in verdict
            for name in ("chain", "audit-record", "status", "possession", "aws-profile", "locked"):
                assert f"PASS  {name}" in checks
            await pilot.press("escape")

            board.faults = Faults(wrong_key=True)  # the board now signs with another key
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(app.screen, QaReportDialog), "QA report")
            verdict, checks = await verify()
            assert "FAIL" in verdict
            assert "FAIL  possession" in checks
            assert "PASS  chain" in checks
            await pilot.press("escape")
            await pilot.press("q", "q")
            await wait_for(pilot, lambda: not app.is_running, "the app to quit")

    asyncio.run(scenario())
    qa_events = [e for e in setup.station.audit.events() if e["kind"] == "QA"]
    assert [e["code"] for e in qa_events] == ["qa.passed", "qa.failed"]
    assert {e["operator"] for e in qa_events} == {"QA2"}
