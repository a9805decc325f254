"""The line's controller: events in, effects out. Pure (no Textual, no threads, no ports).

Each method takes one event (a board seen, a cycle's event, a key, a dialog's answer, a timer)
and returns the :mod:`~station.line.effects` the screen carries out, in order. All the line's
state is in one frozen :class:`LineState`; the clock is injected.

Two counters per slot make late news harmless. A watcher's reports carry its number, and a new
watcher or a cycle bumps the slot's number, so a report from a watcher already told to stop is
dropped. A swap timer carries the slot's verdict count, so a timer set before a retry (or a
newer verdict) does nothing. A watcher that failed is started again after a back-off
(:mod:`~station.line.restart`) by a timer carrying its number, so a cycle, a new watcher or the
end of watching since then makes that timer do nothing too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from station.engine.events import (
    ConsoleText,
    CycleFailure,
    CycleResult,
    EngineEvent,
    FailureKind,
    Step,
)
from station.engine.options import CycleOptions
from station.engine.result_text import result_line
from station.line.effects import (
    AskLabel,
    ConfirmReprovision,
    Effect,
    EndShift,
    Exit,
    Log,
    Notify,
    RunQa,
    ScheduleSwap,
    ScheduleWatch,
    ShowError,
    ShowStats,
    ShowStatus,
    StartCycle,
    StopWatching,
    Swap,
    Watch,
)
from station.line.restart import Backoff
from station.line.setup import LineSetup
from station.line.shift import ShiftStats
from station.line.slot import (
    BoardSeen,
    Phase,
    SlotStatus,
    SlotVacant,
    apply,
    arrived,
    started,
    vacated,
)
from station.line.wording import watch_failed


@dataclass(frozen=True)
class SlotState:
    status: SlotStatus
    watch: int = 0  # the number of the slot's current watcher
    verdicts: int = 0  # verdicts so far on this slot
    known_uid: str | None = None  # the board the current watcher ignores while it stays
    watch_started: float = 0.0  # the clock when the current watcher started
    watch_failures: int = 0  # watchers that failed in a row


@dataclass(frozen=True)
class LabelRequest:
    slot: str
    reprovision: bool


@dataclass(frozen=True)
class LineState:
    slots: Mapping[str, SlotState]
    stats: ShiftStats = field(default_factory=ShiftStats)
    closing: bool = False  # quitting or ending the shift: no new watcher, cycle or label
    labels: tuple[LabelRequest, ...] = ()  # waiting for the label dialog, first first
    label_open: LabelRequest | None = None  # the one the label dialog asks for now


@dataclass(frozen=True)
class LineRules:
    """How this line works: its slots, how cycles start, and the demo's swap pause."""

    slots: tuple[str, ...]
    operator: str
    start: str = "auto"  # "auto" | "key"
    label_scan: bool = False
    qa: bool = False  # QA of a slot's board is set up
    swap_pause: Callable[[bool], float] | None = None  # seconds after a verdict (passed?)
    watch_backoff: Backoff = field(
        default_factory=Backoff
    )  # when a watcher that failed starts again

    @classmethod
    def from_setup(cls, setup: LineSetup, operator: str) -> LineRules:
        feeder = setup.feeder
        return cls(
            slots=setup.slots,
            operator=operator,
            start=setup.start,
            label_scan=setup.label_scan,
            qa=setup.qa is not None,
            swap_pause=None if feeder is None else feeder.pause_after,
            watch_backoff=setup.watch_backoff,
        )


class LineController:
    """One shift's line. ``state`` is the whole of it; ``clock`` stamps the start of cycles."""

    def __init__(self, rules: LineRules, clock: Callable[[], float]) -> None:
        self.rules = rules
        self.clock = clock
        self.state = LineState({name: SlotState(SlotStatus(name)) for name in rules.slots})

    # ---- reading the state --------------------------------------------------------------------

    @property
    def statuses(self) -> dict[str, SlotStatus]:
        return {name: s.status for name, s in self.state.slots.items()}

    @property
    def stats(self) -> ShiftStats:
        return self.state.stats

    @property
    def closing(self) -> bool:
        return self.state.closing

    def busy_slots(self) -> list[str]:
        return [name for name, s in self.state.slots.items() if s.status.busy]

    def _slot(self, name: str) -> SlotState:
        return self.state.slots[name]

    def _put(self, name: str, slot: SlotState) -> None:
        self.state = replace(self.state, slots={**self.state.slots, name: slot})

    def _show(self, status: SlotStatus) -> ShowStatus:
        self._put(status.name, replace(self._slot(status.name), status=status))
        return ShowStatus(status)

    # ---- life cycle ---------------------------------------------------------------------------

    def start(self) -> list[Effect]:
        """The shift begins: watch every slot."""
        return [e for name in self.rules.slots for e in self._watch(name, None)]

    def display(self, status: SlotStatus) -> list[Effect]:
        """Put ``status`` on its card as is (for snapshots and replays)."""
        return [self._show(status)]

    def stop(self) -> list[Effect]:
        """Stop looking for boards (running cycles go on to their end)."""
        self.state = replace(self.state, closing=True)
        return [StopWatching(name) for name in self.rules.slots]

    def quit(self) -> list[Effect]:
        """Quit once every running cycle has ended and been recorded."""
        effects = self.stop()
        busy = self.busy_slots()
        if not busy:
            return [*effects, Exit(self.stats)]
        return [
            *effects,
            Log(None, f"Quitting once the running cycles end ({', '.join(busy)})"),
            Notify(
                "Waiting for running cycles to finish, then quitting.",
                severity="information",
                timeout=30,
            ),
        ]

    def end_shift(self) -> list[Effect]:
        """The operator confirmed the end of the shift: over, unless a cycle started since."""
        if self.busy_slots():
            return []
        return [Log(None, "Shift ended"), *self.stop(), EndShift()]

    # ---- watching for boards ------------------------------------------------------------------

    def _watch(self, slot: str, known_uid: str | None) -> list[Effect]:
        if self.closing:
            return []
        number = self._slot(slot).watch + 1
        state = replace(self._slot(slot), watch=number, known_uid=known_uid)
        self._put(slot, replace(state, watch_started=self.clock()))
        return [Watch(slot, known_uid, number)]

    def board_seen(self, seen: BoardSeen, watch: int) -> list[Effect]:
        """Watcher number ``watch`` found a board."""
        if watch != self._slot(seen.slot).watch or self.closing:
            return []
        self._put(seen.slot, replace(self._slot(seen.slot), watch_failures=0))
        effects: list[Effect] = [
            self._show(arrived(self._slot(seen.slot).status, seen)),
            Log(
                seen.slot,
                f"board {seen.uid} ({seen.model} fw {seen.firmware}, {seen.state}) on {seen.port}",
            ),
        ]
        if self.rules.label_scan:
            effects += self.label_pressed(seen.slot)
        elif self.rules.start == "auto":
            effects += self._start_cycle(seen.slot)
        return effects

    def slot_quiet(self, vacant: SlotVacant, watch: int) -> list[Effect]:
        """Watcher number ``watch`` found nothing answering any more."""
        state = self._slot(vacant.slot)
        if watch != state.watch or state.status.busy:
            return []
        self._put(vacant.slot, replace(state, known_uid=None))  # the watcher forgot it too
        return [self._show(replace(vacated(state.status, vacant), watch_error=""))]

    def watcher_failed(self, slot: str, watch: int, error: BaseException) -> list[Effect]:
        """Watcher number ``watch`` raised ``error``: say so on the card, restart it later."""
        state = self._slot(slot)
        if watch != state.watch or self.closing:
            return []
        backoff = self.rules.watch_backoff
        failures = backoff.failures_after(state.watch_failures, self.clock() - state.watch_started)
        delay = backoff.delay(failures)
        self._put(slot, replace(state, watch_failures=failures))
        text = watch_failed(error, delay)
        return [
            Log(slot, text),
            self._show(replace(state.status, watch_error=text)),
            ScheduleWatch(slot, delay, watch),
        ]

    def watch_due(self, slot: str, watch: int) -> list[Effect]:
        """The back-off after watcher number ``watch`` failed is over: watch again, unless a
        cycle, another watcher or the end of watching came since."""
        state = self._slot(slot)
        if watch != state.watch or state.status.busy:
            return []
        return self._watch(slot, state.known_uid)

    # ---- the operator's keys and answers ------------------------------------------------------

    def start_pressed(self, slot: str) -> list[Effect]:
        if self._slot(slot).status.phase is not Phase.READY:
            return [Notify(f"Slot {slot}: no board waiting to start.")]
        if self.rules.label_scan:
            return self.label_pressed(slot)
        return self._start_cycle(slot)

    def retry_pressed(self, slot: str, *, reprovision: bool = False) -> list[Effect]:
        status = self._slot(slot).status
        if status.phase is not Phase.FAILED or status.port is None:
            return [Notify(f"Slot {slot}: nothing to retry.")]
        if self.rules.label_scan:
            return self.label_pressed(slot, reprovision=reprovision)
        return self._start_cycle(slot, reprovision=reprovision)

    def reprovision_pressed(self, slot: str) -> list[Effect]:
        status = self._slot(slot).status
        if not status.offers_reprovision or status.busy:
            return [Notify(f"Slot {slot}: nothing to re-provision.")]
        return [ConfirmReprovision(slot, status.board_uid)]

    def reprovision_answered(self, slot: str, board_uid: str | None, yes: bool) -> list[Effect]:
        if not yes:
            return [Log(slot, f"re-provisioning {board_uid}: declined")]
        confirmed = Log(slot, f"re-provisioning {board_uid}: confirmed")
        return [confirmed, *self.retry_pressed(slot, reprovision=True)]

    def qa_pressed(self, slot: str) -> list[Effect]:
        status = self._slot(slot).status
        if not self.rules.qa:
            return [Notify("QA is not set up on this station.")]
        if status.busy or status.port is None:
            return [Notify(f"Slot {slot}: no idle board to verify.")]
        return [Log(slot, "QA verify started"), RunQa(slot, status.port)]

    def label_pressed(self, slot: str, *, reprovision: bool = False) -> list[Effect]:
        """Queue a label scan for ``slot``; the dialog asks for one slot at a time."""
        state = self.state
        if self._slot(slot).status.busy or any(r.slot == slot for r in state.labels):
            return []
        self.state = replace(state, labels=(*state.labels, LabelRequest(slot, reprovision)))
        return self._next_label()

    def _next_label(self) -> list[Effect]:
        state = self.state
        if state.label_open is not None or not state.labels or state.closing:
            return []
        request, *rest = state.labels
        self.state = replace(state, labels=tuple(rest), label_open=request)
        return [AskLabel(request.slot)]

    def label_scanned(self, label: str | None) -> list[Effect]:
        """The label dialog's answer (None: put off)."""
        request = self.state.label_open
        self.state = replace(self.state, label_open=None)
        effects: list[Effect] = []
        if request is not None:
            slot = request.slot
            if label is None:
                effects.append(Log(slot, "label scan put off: press L on the slot to scan it"))
            elif self._slot(slot).status.phase in (Phase.READY, Phase.FAILED):
                effects.append(Log(slot, f"label scanned: {label}"))
                effects += self._start_cycle(slot, expect_id=label, reprovision=request.reprovision)
        return effects + self._next_label()

    # ---- cycles -------------------------------------------------------------------------------

    def _start_cycle(
        self, slot: str, *, expect_id: str | None = None, reprovision: bool = False
    ) -> list[Effect]:
        state = self._slot(slot)
        status = state.status
        if status.busy or status.port is None or self.closing:
            return []
        self._put(slot, replace(state, watch=state.watch + 1))  # the watcher lets go of the port
        options = CycleOptions(
            operator=self.rules.operator, expect_id=expect_id, reprovision=reprovision
        )
        return [
            StopWatching(slot),
            self._show(started(status, status.port, self.clock())),
            Log(slot, "cycle started" + (" (re-provision)" if reprovision else "")),
            StartCycle(slot, status.port, options),
        ]

    def engine_event(self, event: EngineEvent) -> list[Effect]:
        """A running cycle's event: a step, progress, a console line or its result."""
        if isinstance(event, ConsoleText):
            return [Log(event.slot, event.text, console=True)]
        effects: list[Effect] = [self._show(apply(self._slot(event.slot).status, event))]
        if isinstance(event, CycleResult):
            effects += self._finished(event)
        return effects

    def _finished(self, result: CycleResult) -> list[Effect]:
        slot = result.slot
        self.state = replace(self.state, stats=self.stats.record(result))
        effects: list[Effect] = [ShowStats(self.stats)]
        effects.append(Log(slot, result_line(result)))
        if self.closing:
            return effects + ([] if self.busy_slots() else [Exit(self.stats)])
        token = self._slot(slot).verdicts + 1
        self._put(slot, replace(self._slot(slot), verdicts=token))
        effects += self._watch(slot, result.board_uid)
        if self.rules.swap_pause is not None:
            effects.append(ScheduleSwap(slot, self.rules.swap_pause(result.passed), token))
        return effects

    def worker_crashed(
        self, name: str, error: BaseException | None, *, cycle_slot: str | None = None
    ) -> list[Effect]:
        """A worker ended with an exception; ``cycle_slot``: it held that slot's port."""
        effects: list[Effect] = [Log(None, f"{name} crashed: {error!r}")]
        status = None if cycle_slot is None else self.statuses.get(cycle_slot)
        if status is not None and status.busy:
            failure = CycleFailure(
                FailureKind.STATION,
                status.step or Step.HELLO,
                "station.worker",
                f"Station error on slot {status.name}: {error}; call the line engineer.",
            )
            effects.append(
                self._show(replace(status, phase=Phase.FAILED, failure=failure, present=True))
            )
            if self.closing and not self.busy_slots():
                effects.append(Exit(self.stats))
        return [*effects, ShowError(f"{name} stopped", repr(error))]

    # ---- the demo line ------------------------------------------------------------------------

    def swap_due(self, slot: str, token: int) -> list[Effect]:
        """A swap timer fired; it still counts if no verdict or cycle came since."""
        state = self._slot(slot)
        if self.rules.swap_pause is None or self.closing or token != state.verdicts:
            return []
        if state.status.busy:
            return []
        return [Swap(slot)]

    def board_swapped(self, slot: str, uid: str) -> list[Effect]:
        return [Log(slot, f"demo: next board {uid} placed on the slot")]
