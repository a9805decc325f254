"""End of shift from the operator's screen: the summary, then the signed audit export, written by
the real exporter into a new folder; the engine's events also reach the station log."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Static

from fixtures.board import BoardServer
from station.commands.loaders import open_audit_signer
from station.config import load_config
from station.home import StationHome
from station.line.setup import LineSetup
from station.line.shift_export import AuditShiftExporter
from station.line.slot import Phase
from station.logbook import Logbook
from station.tui.app import StationApp
from station.tui.dialogs.shift_summary import ShiftSummaryDialog
from tests.engine.conftest import ENV
from tests.export.helpers import cms_verify
from tests.tui.conftest import BoardSlots, phases, wait_for

MakeBoard = Callable[..., BoardServer]


def test_end_shift_exports_a_signed_shift_and_the_log_has_the_cycles(
    make_setup: Callable[..., LineSetup],
    make_board: MakeBoard,
    slots: BoardSlots,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATION_CA_PASSPHRASE", ENV["STATION_CA_PASSPHRASE"])
    config = load_config(StationHome(home))
    signer, _ = open_audit_signer(config, datetime.now(UTC))
    for n in range(2):
        slots.boards[str(n + 1)] = make_board()
    setup = make_setup(2)
    logbook = Logbook(config.home.log_file, config.station.id)
    exporter = AuditShiftExporter(setup.station.audit, signer, home / "exports", "line-7")
    app = StationApp(
        LineSetup(**{**setup.__dict__, "exporter": exporter, "logbook": logbook}),
        operator="OP5",
    )

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(
                pilot,
                lambda: app.line is not None and set(phases(app).values()) == {Phase.PASSED},
                "two PASS cards",
            )
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ShiftSummaryDialog), "summary")
            summary = str(app.screen.query_one("#summary", Static).render())
            assert "passed 2" in summary
            await pilot.press("x")
            status = app.screen.query_one("#export-status", Static)
            await wait_for(pilot, lambda: "Shift exported to" in str(status.render()), "export")
            await pilot.press("escape")
            await pilot.press("q", "q")
            await wait_for(pilot, lambda: not app.is_running, "the app to quit")

    asyncio.run(scenario())
    logbook.close()
    [out] = list((home / "exports").iterdir())
    verify = subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "audit", "verify-export", str(out)],
        env=ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    openssl = cms_verify(out, home / "ca/root.cert.pem")
    assert openssl.returncode == 0, openssl.stderr
    log = config.home.log_file.read_text()
    assert log.count(" PASS ") == 2
    for board in slots.boards.values():
        assert board.identity.uid in log
