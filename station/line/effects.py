"""What the line controller asks of the screen: small frozen values, carried out in order.

:class:`~station.line.controller.LineController` decides; the screen carries out each effect. It
draws (``ShowStatus``, ``ShowStats``, ``Log``, ``Notify``, ``ShowError``), asks the operator
(``AskLabel``, ``ConfirmReprovision``), runs the blocking parts in thread workers (``Watch``,
``StartCycle``, ``RunQa``, ``Swap``), sets timers (``ScheduleSwap``, ``ScheduleWatch``) and ends
the shift or the app (``EndShift``, ``Exit``). What happens next comes back to the controller as
an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from station.engine.options import CycleOptions
from station.line.shift import ShiftStats
from station.line.slot import SlotStatus


@dataclass(frozen=True)
class ShowStatus:
    """Draw a slot's card as ``status`` says."""

    status: SlotStatus


@dataclass(frozen=True)
class ShowStats:
    """Draw the shift's counters."""

    stats: ShiftStats


@dataclass(frozen=True)
class Log:
    """A line for the log pane (``slot`` None: the station itself)."""

    slot: str | None
    text: str
    console: bool = False  # a board's own console output, not a station event


@dataclass(frozen=True)
class Notify:
    """A short message to the operator that goes away by itself."""

    text: str
    severity: Literal["information", "warning"] = "warning"
    timeout: float | None = None  # seconds; None: the app's default


@dataclass(frozen=True)
class ShowError:
    """A dialog for something the operator must see (a worker that crashed)."""

    title: str
    detail: str


@dataclass(frozen=True)
class Watch:
    """Look for boards on ``slot`` (replacing its watcher); reports carry ``number``."""

    slot: str
    known_uid: str | None  # the board that just finished here: ignored while it stays
    number: int


@dataclass(frozen=True)
class ScheduleWatch:
    """In ``delay`` seconds, tell the controller ``watch_due(slot, number)``: the slot's watcher
    number ``number`` failed, and a new one starts then unless something came since."""

    slot: str
    delay: float
    number: int


@dataclass(frozen=True)
class StopWatching:
    """Stop looking for boards on ``slot`` (the watcher lets go of the port)."""

    slot: str


@dataclass(frozen=True)
class StartCycle:
    """Provision the board on ``slot`` at ``port``; its events come back to the controller."""

    slot: str
    port: str
    options: CycleOptions


@dataclass(frozen=True)
class RunQa:
    """QA the board on ``slot`` at ``port``; the report goes to the screen."""

    slot: str
    port: str


@dataclass(frozen=True)
class AskLabel:
    """Ask for the label of the board on ``slot``; the answer goes to ``label_scanned``."""

    slot: str


@dataclass(frozen=True)
class ConfirmReprovision:
    """Ask whether to re-provision ``board_uid``; the answer goes to ``reprovision_answered``."""

    slot: str
    board_uid: str | None


@dataclass(frozen=True)
class ScheduleSwap:
    """In ``delay`` seconds, tell the controller ``swap_due(slot, token)`` (the demo line)."""

    slot: str
    delay: float
    token: int


@dataclass(frozen=True)
class Swap:
    """Put the next board on ``slot`` (the demo line), unless a cycle holds the slot."""

    slot: str


@dataclass(frozen=True)
class EndShift:
    """The shift is over: close the line's screen."""


@dataclass(frozen=True)
class Exit:
    """Quit the app with the shift's figures."""

    stats: ShiftStats


Effect = (
    ShowStatus
    | ShowStats
    | Log
    | Notify
    | ShowError
    | Watch
    | ScheduleWatch
    | StopWatching
    | StartCycle
    | RunQa
    | AskLabel
    | ConfirmReprovision
    | ScheduleSwap
    | Swap
    | EndShift
    | Exit
)
