"""TUI tests: a real station home, virtual boards on ptys, the app driven headless by a pilot."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from fixtures.board import BoardServer
from station.engine.station import StationContext
from station.line.setup import LineSetup
from station.line.slot import Phase
from station.tui.app import StationApp
from station.tui.screens.main import MainScreen
from tests.engine.conftest import home, station, template_home  # noqa: F401 - fixtures

FIXED_WALL = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


class BoardSlots:
    """A PortSource over virtual boards: slot N is the N-th board, while it is powered."""

    def __init__(self) -> None:
        self.boards: dict[str, BoardServer] = {}

    def port(self, slot: str) -> str | None:
        board = self.boards.get(slot)
        return board.url if board is not None and board.connected else None


@pytest.fixture
def slots() -> BoardSlots:
    return BoardSlots()


@pytest.fixture
def make_setup(
    station: StationContext,  # noqa: F811 - the fixture imported above
    slots: BoardSlots,
) -> Callable[..., LineSetup]:
    def make(count: int, *, timeout: float = 0.5, **options: object) -> LineSetup:
        # BUSY keep-alives come every 0.5 s: slow keygens need a longer request timeout.
        return LineSetup(
            station=dataclasses.replace(station, request_timeout=timeout),
            slots=tuple(str(n + 1) for n in range(count)),
            source=slots,
            poll=0.1,
            **options,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            return
        time.sleep(0.05)  # waiting for threads to end, not synchronising a test
    raise AssertionError(f"threads left behind: {extra}")


async def wait_for(
    pilot: Pilot[object], condition: Callable[[], bool], what: str, timeout: float = 30.0
) -> None:
    """Let the app run until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def line_of(app: StationApp) -> MainScreen:
    line = app.line
    assert line is not None, "no shift is open"
    return line


def phases(app: StationApp) -> dict[str, Phase]:
    return {name: s.phase for name, s in line_of(app).statuses.items()}


def tmp_boards(tmp_path: Path) -> Path:
    return tmp_path / "boards"
