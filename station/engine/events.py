"""What the engine tells its listeners (the CLI, the TUI): small frozen dataclasses."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


class Step(enum.StrEnum):
    """The cycle of DESIGN section 1, in order."""

    HELLO = "hello"
    KEYGEN = "keygen"
    CSR = "csr"
    POLICY = "policy"
    ISSUE = "issue"
    DELIVER = "deliver"
    READBACK = "readback"
    PROVE = "prove"
    LOCK = "lock"


class FailureKind(enum.StrEnum):
    NOT_RESPONDING = "board-not-responding"
    PROTOCOL = "protocol-error"
    BOARD_ERROR = "board-error"
    POLICY = "policy-rejection"
    IDENTITY = "identity-mismatch"
    STATION = "station-error"


class Outcome(enum.StrEnum):
    """How a cycle ended."""

    PASSED = "passed"  # the board was provisioned (or an interrupted cycle finished)
    ALREADY_PROVISIONED = "already-provisioned"  # locked with our recorded certificate: no change
    FAILED = "failed"


@dataclass(frozen=True)
class CycleFailure:
    """Why a cycle failed: for the operator, the audit record and scripts."""

    kind: FailureKind
    step: Step
    code: str  # stable, for the audit record and scripts: "board-error.STORAGE_FAILED"
    message: str  # for the operator: what happened and what to do


@dataclass(frozen=True)
class StepStarted:
    slot: str
    step: Step
    elapsed: float


@dataclass(frozen=True)
class BoardIdentified:
    """The board answered HELLO: who is on the slot for this cycle (before anything else)."""

    slot: str
    uid: str
    model: str
    firmware: str
    state: str  # blank / keyed / certified / locked


@dataclass(frozen=True)
class StepProgress:
    """Bytes moved within a step; frequent, so a UI may coalesce them."""

    slot: str
    step: Step
    done: int
    total: int


@dataclass(frozen=True)
class ConsoleText:
    slot: str
    text: str


@dataclass(frozen=True, kw_only=True)
class CycleResult:
    slot: str
    port: str
    board_uid: str | None
    failure: CycleFailure | None
    serial: str | None
    elapsed: float
    note: str = ""  # e.g. "resumed after an interrupted cycle"
    #: Set when the board came back locked with the certificate recorded as locked for it (and
    #: proved it holds the key): when that certificate was locked. Nothing was changed.
    provisioned_at: datetime | None = None
    #: The line rate the cycle ran at after HELLO (SPEC.md 7.10); None: it did not get there.
    baud: int | None = None

    @property
    def outcome(self) -> Outcome:
        if self.failure is not None:
            return Outcome.FAILED
        if self.provisioned_at is not None:
            return Outcome.ALREADY_PROVISIONED
        return Outcome.PASSED

    @property
    def passed(self) -> bool:
        """Provisioned by this cycle (not: already provisioned before it, or failed)."""
        return self.outcome is Outcome.PASSED

    @property
    def good(self) -> bool:
        """The board leaves the jig provisioned: it passed, or was already provisioned."""
        return self.failure is None


EngineEvent = StepStarted | BoardIdentified | StepProgress | ConsoleText | CycleResult
Listener = Callable[[EngineEvent], None]
