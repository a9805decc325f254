"""One line per cycle result, the same words on the command line, in the station log and in the
operator's log pane."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.engine.events import Outcome
from station.engine.result_text import result_line
from station.line.controller import LineController, LineRules
from station.line.effects import Log
from station.logbook import Logbook

from .test_outcomes import result


@pytest.mark.parametrize(
    ("outcome", "where", "line"),
    [
        pytest.param(Outcome.PASSED, "", "PASS VB1-0001 serial 4d in 1.5 s", id="ok/passed-pane"),
        pytest.param(
            Outcome.PASSED,
            "slot 1 /dev/pts/3",
            "PASS slot 1 /dev/pts/3 VB1-0001 serial 4d in 1.5 s",
            id="ok/passed-cli",
        ),
        pytest.param(
            Outcome.ALREADY_PROVISIONED,
            "/dev/pts/3",
            "ALREADY PROVISIONED /dev/pts/3 VB1-0001: already provisioned: certificate 4d, "
            "locked 2025-03-01 06:30 UTC; it is good, nothing was changed",
            id="ok/already-log",
        ),
        pytest.param(
            Outcome.FAILED,
            "slot 1 /dev/pts/3",
            "FAIL slot 1 /dev/pts/3 VB1-0001 identity.locked: board is locked",
            id="fail/failed-cli",
        ),
    ],
)
def test_result_line(outcome: Outcome, where: str, line: str) -> None:
    assert result_line(result(outcome), where=where) == line


@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_pane_and_the_station_log_say_the_same(outcome: Outcome, tmp_path: Path) -> None:
    done = result(outcome)
    controller = LineController(LineRules(slots=("1",), operator="OP1"), clock=lambda: 0.0)
    pane = [e.text for e in controller.engine_event(done) if isinstance(e, Log)]
    assert pane == [result_line(done)]

    logbook = Logbook(tmp_path / "station.log", "st-1")
    logbook(done)
    logbook.close()
    logged = (tmp_path / "station.log").read_text().rstrip("\n")
    assert logged.endswith(f" st-1 slot 1 {result_line(done, where='/dev/pts/3')}")
