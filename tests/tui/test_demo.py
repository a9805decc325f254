"""`station demo` in-process: a throwaway station, virtual boards, the app; nothing left behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from station.commands.passphrases import CA_PASSPHRASE_ENV, ROOT_PASSPHRASE_ENV
from station.line.demo_station import demo_line
from station.line.slot import Phase
from station.tui.app import StationApp
from tests.tui.conftest import line_of, wait_for


def open_ptys() -> list[str]:
    """The ptys (master ``/dev/ptmx`` or slave ``/dev/pts/N``) this process has open."""
    fds = Path("/proc/self/fd")
    found = []
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith(("/dev/pts/", "/dev/ptmx")):
                found.append(target)
    return sorted(found)


def test_the_demo_flows_like_a_line_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (CA_PASSPHRASE_ENV, ROOT_PASSPHRASE_ENV):
        monkeypatch.delenv(name, raising=False)  # restored (removed) after the test
    ptys_before = open_ptys()
    env_before = dict(os.environ)
    with demo_line(4, seed=7) as setup:
        home = Path(setup.station.audit.path).parent
        # The made-up passphrases are values in this process, never in its environment.
        assert dict(os.environ) == env_before
        app = StationApp(setup)

        async def scenario() -> None:
            async with app.run_test(size=(160, 50)) as pilot:
                await pilot.press(*"OP17", "enter")
                await wait_for(pilot, lambda: app.line is not None, "the line")
                # Board 3 of every batch sends a weak-key CSR: a FAIL among the PASSes.
                await wait_for(
                    pilot,
                    lambda: line_of(app).stats.passed >= 5 and line_of(app).stats.failed >= 1,
                    "passes, fresh boards swapped in after them, and a FAIL",
                    timeout=60,
                )
                assert (
                    any(
                        s.phase is Phase.FAILED and s.failure and "refuses" in s.failure.message
                        for s in line_of(app).statuses.values()
                    )
                    or line_of(app).stats.failures
                )
                await pilot.press("q", "q")
                await wait_for(pilot, lambda: not app.is_running, "the app to quit", timeout=30)

        asyncio.run(scenario())
    assert app.return_value is not None
    assert app.return_value.passed >= 5
    assert not home.exists(), "the throwaway station home is removed"
    assert dict(os.environ) == env_before, "the environment is as the demo found it"
    assert open_ptys() == ptys_before, "every pty the demo opened is closed"
