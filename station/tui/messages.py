"""What workers tell the screen. Workers post these; they never touch widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from station.engine.events import EngineEvent, StepProgress
from station.line.slot import BoardSeen, SlotVacant
from station.qa.runner import QaReport


@dataclass
class EngineUpdate(Message):
    """An event from a running cycle (step, progress, console line, result)."""

    event: EngineEvent

    def can_replace(self, message: Message) -> bool:
        # A newer progress report for the same slot makes this one stale: floods coalesce.
        mine = self.event
        other = message.event if isinstance(message, EngineUpdate) else None
        return (
            isinstance(mine, StepProgress)
            and isinstance(other, StepProgress)
            and other.slot == mine.slot
        )


@dataclass
class BoardArrived(Message):
    """A board answered HELLO on a slot (from watch number ``watch``)."""

    seen: BoardSeen
    watch: int


@dataclass
class SlotQuiet(Message):
    """Nothing answers on a slot any more (from watch number ``watch``)."""

    vacant: SlotVacant
    watch: int


@dataclass
class WatcherFailed(Message):
    """Watch number ``watch`` on ``slot`` ended with an exception nobody foresaw."""

    slot: str
    watch: int
    error: Exception


@dataclass
class BoardSwapped(Message):
    """The demo line put a new board on a slot."""

    slot: str
    uid: str


@dataclass
class QaDone(Message):
    """QA of the board on a slot ended: a report, or why nothing could be checked."""

    slot: str
    report: QaReport | None
    error: str = ""


@dataclass
class FactoryLinkChanged(Message):
    """The factory link's line after a sync attempt (a newer one makes this one stale)."""

    text: str
    alarm: bool = False

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FactoryLinkChanged)
