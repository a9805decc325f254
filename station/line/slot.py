"""What one slot shows: a frozen value, advanced by pure functions from engine events."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from station.engine.events import (
    BoardIdentified,
    CycleFailure,
    CycleResult,
    EngineEvent,
    Outcome,
    Step,
    StepProgress,
    StepStarted,
)

ALREADY_PROVISIONED = "identity.already-provisioned"


class Phase(enum.StrEnum):
    EMPTY = "empty"  # no port, or nothing answers on it
    READY = "ready"  # a board answered HELLO; waiting for the operator (start key or label)
    RUNNING = "running"
    PASSED = "passed"
    ALREADY = "already"  # provisioned before, checked and left as it was: neither pass nor fail
    FAILED = "failed"


#: The phase a finished cycle leaves its slot in.
_VERDICT = {
    Outcome.PASSED: Phase.PASSED,
    Outcome.ALREADY_PROVISIONED: Phase.ALREADY,
    Outcome.FAILED: Phase.FAILED,
}


@dataclass(frozen=True)
class BoardSeen:
    """A board answered HELLO on a slot."""

    slot: str
    port: str
    uid: str
    state: str  # blank / keyed / certified / locked
    model: str = ""
    firmware: str = ""


@dataclass(frozen=True)
class SlotVacant:
    """Nothing answers on a slot: no port, or a port without a board."""

    slot: str
    port: str | None


@dataclass(frozen=True)
class SlotStatus:
    name: str
    port: str | None = None
    phase: Phase = Phase.EMPTY
    board_uid: str | None = None
    present: bool = False  # the board of this card still answers
    step: Step | None = None
    progress: tuple[int, int] | None = None  # bytes or percent within the step
    started_at: float | None = None  # the station clock when the cycle began
    elapsed: float | None = None  # the cycle's time, once it ended
    failure: CycleFailure | None = None
    serial: str | None = None
    note: str = ""
    #: Why the slot is not looking for boards right now (its watcher failed and waits to restart).
    watch_error: str = ""

    @property
    def busy(self) -> bool:
        return self.phase is Phase.RUNNING

    @property
    def offers_reprovision(self) -> bool:
        return self.failure is not None and self.failure.code == ALREADY_PROVISIONED

    def elapsed_at(self, now: float) -> float | None:
        """Seconds into the cycle (live while running, final afterwards)."""
        if self.phase is Phase.RUNNING and self.started_at is not None:
            return max(0.0, now - self.started_at)
        return self.elapsed


def arrived(status: SlotStatus, seen: BoardSeen) -> SlotStatus:
    """A new board answered: the card starts over for it."""
    return SlotStatus(status.name, seen.port, Phase.READY, seen.uid, present=True)


def vacated(status: SlotStatus, vacant: SlotVacant) -> SlotStatus:
    """The board left. A verdict stays on the card until the next board arrives."""
    if status.phase in _VERDICT.values():
        return replace(status, present=False, port=vacant.port or status.port)
    return SlotStatus(status.name, vacant.port)


def started(status: SlotStatus, port: str, now: float) -> SlotStatus:
    """A cycle begins on ``port`` (a fresh board, a retry, or a re-provision)."""
    return replace(
        status,
        port=port,
        phase=Phase.RUNNING,
        step=Step.HELLO,
        progress=None,
        started_at=now,
        elapsed=None,
        failure=None,
        serial=None,
        note="",
        watch_error="",
    )


def apply(status: SlotStatus, event: EngineEvent) -> SlotStatus:
    """Advance the card by one engine event (console text changes nothing here)."""
    if isinstance(event, StepStarted):
        return replace(status, step=event.step, progress=None)
    if isinstance(event, BoardIdentified):
        return replace(status, board_uid=event.uid)
    if isinstance(event, StepProgress):
        return replace(status, step=event.step, progress=(event.done, event.total))
    if isinstance(event, CycleResult):
        return replace(
            status,
            phase=_VERDICT[event.outcome],
            board_uid=event.board_uid or status.board_uid,
            present=True,
            step=event.failure.step if event.failure else status.step,
            progress=None,
            elapsed=event.elapsed,
            failure=event.failure,
            serial=event.serial,
            note=event.note,
        )
    return status
