"""The slots' behaviour behind the main screen: watchers, cycles, labels, retries, quitting.

Blocking work runs in thread workers (:func:`station.line.watch.watch_slot`, the engine's
``Cycle.run``) that post messages back; only handlers on the screen's thread change state or
widgets. Per slot, a lock keeps a HELLO probe and a cycle from opening the port at once.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import replace
from functools import partial

from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from device_protocol import Link, LinkError
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import (
    ConsoleText,
    CycleResult,
    EngineEvent,
    Failure,
    FailureKind,
    Step,
)
from station.errors import StationError
from station.line.setup import LineSetup
from station.line.shift import ShiftStats
from station.line.slot import Phase, SlotStatus, apply, arrived, started, vacated
from station.line.watch import watch_slot
from station.qa.runner import QaContext, run_qa
from station.tui.dialogs.error import ErrorDialog
from station.tui.dialogs.label import LabelDialog
from station.tui.messages import (
    BoardArrived,
    BoardSwapped,
    EngineUpdate,
    QaDone,
    SlotQuiet,
    StationNote,
)
from station.tui.widgets.log_pane import LogLine, LogPane


class SlotRunner(Screen[None]):
    """A screen that runs the line; subclasses draw it (``show_*``, ``log_pane``, ``tick``)."""

    def init_runner(self, setup: LineSetup, operator: str) -> None:
        self.setup = setup
        self.operator = operator
        self.statuses = {name: SlotStatus(name) for name in setup.slots}
        self.stats = ShiftStats()
        self.closing = False
        self._locks = {name: threading.Lock() for name in setup.slots}
        self._stops = {name: threading.Event() for name in setup.slots}
        self._watch_no = dict.fromkeys(setup.slots, 0)
        self._verdicts = dict.fromkeys(setup.slots, 0)
        self._labels: deque[tuple[str, bool]] = deque()
        self._label_open = False

    # ---- drawing hooks ------------------------------------------------------------------------

    def show_status(self, status: SlotStatus) -> None:
        raise NotImplementedError

    def show_stats(self, stats: ShiftStats) -> None:
        raise NotImplementedError

    def log_pane(self) -> LogPane:
        raise NotImplementedError

    def tick(self, now: float) -> None:
        raise NotImplementedError

    # ---- life cycle ---------------------------------------------------------------------------

    def start_runner(self) -> None:
        for name in self.setup.slots:
            self._watch(name, None)
        self.set_interval(0.5, lambda: self.tick(self.setup.clock()))

    def stop_runner(self) -> None:
        """Stop looking for boards (running cycles go on to their end)."""
        self.closing = True
        for stop in self._stops.values():
            stop.set()

    def on_unmount(self) -> None:
        self.stop_runner()  # watcher threads end within one poll; cycles run to their end

    def close_line(self) -> None:
        """Quit once every running cycle has ended and been recorded."""
        self.stop_runner()
        busy = self.busy_slots()
        if not busy:
            self.app.exit(self.stats)
            return
        self.log_line(None, f"Quitting once the running cycles end ({', '.join(busy)})")
        self.notify("Waiting for running cycles to finish, then quitting.", timeout=30)

    def busy_slots(self) -> list[str]:
        return [name for name, s in self.statuses.items() if s.busy]

    def log_line(self, slot: str | None, text: str, *, console: bool = False) -> None:
        self.log_pane().add(LogLine(self.setup.wall(), slot, text, console))

    def _post(self, message: Message) -> None:
        """Post from a worker thread (thread-safe); the screen handles it on its own thread."""
        self.post_message(message)

    def _set(self, status: SlotStatus) -> None:
        self.statuses[status.name] = status
        self.show_status(status)

    def display_status(self, status: SlotStatus) -> None:
        """Show ``status`` on its card as is (for snapshots and replays)."""
        self._set(status)

    # ---- watching for boards ------------------------------------------------------------------

    def _watch(self, slot: str, known_uid: str | None) -> None:
        if self.closing:
            return
        self._stops[slot].set()
        self._watch_no[slot] += 1
        number = self._watch_no[slot]
        stop = self._stops[slot] = threading.Event()

        def body() -> None:
            seen = watch_slot(
                slot,
                self.setup.source,
                lock=self._locks[slot],
                stop=stop,
                known_uid=known_uid,
                on_vacant=lambda vacant: self._post(SlotQuiet(vacant, number)),
                probe=self.setup.probe,
                interval=self.setup.poll,
            )
            if seen is not None:
                self.post_message(BoardArrived(seen, number))

        self.run_worker(
            body, name=f"watch slot {slot}", group=f"watch-{slot}", thread=True, exit_on_error=False
        )

    def on_board_arrived(self, message: BoardArrived) -> None:
        seen = message.seen
        if message.watch != self._watch_no[seen.slot] or self.closing:
            return
        self._set(arrived(self.statuses[seen.slot], seen))
        self.log_line(
            seen.slot,
            f"board {seen.uid} ({seen.model} fw {seen.firmware}, {seen.state}) on {seen.port}",
        )
        if self.setup.label_scan:
            self.ask_label(seen.slot, reprovision=False)
        elif self.setup.start == "auto":
            self._start_cycle(seen.slot)

    def on_slot_quiet(self, message: SlotQuiet) -> None:
        slot = message.vacant.slot
        if message.watch == self._watch_no[slot] and not self.statuses[slot].busy:
            self._set(vacated(self.statuses[slot], message.vacant))

    # ---- operator actions ---------------------------------------------------------------------

    def operator_start(self, slot: str) -> None:
        status = self.statuses[slot]
        if status.phase is not Phase.READY:
            self.notify(f"Slot {slot}: no board waiting to start.", severity="warning")
        elif self.setup.label_scan:
            self.ask_label(slot, reprovision=False)
        else:
            self._start_cycle(slot)

    def operator_retry(self, slot: str, *, reprovision: bool = False) -> None:
        status = self.statuses[slot]
        if status.phase is not Phase.FAILED or status.port is None:
            self.notify(f"Slot {slot}: nothing to retry.", severity="warning")
        elif self.setup.label_scan:
            self.ask_label(slot, reprovision=reprovision)
        else:
            self._start_cycle(slot, reprovision=reprovision)

    def ask_label(self, slot: str, *, reprovision: bool) -> None:
        if self.statuses[slot].busy or any(s == slot for s, _ in self._labels):
            return
        self._labels.append((slot, reprovision))
        self._next_label()

    def _next_label(self) -> None:
        if self._label_open or not self._labels or self.closing:
            return
        slot, reprovision = self._labels.popleft()
        self._label_open = True

        def scanned(label: str | None) -> None:
            self._label_open = False
            if label is None:
                self.log_line(slot, "label scan put off: press L on the slot to scan it")
            elif self.statuses[slot].phase in (Phase.READY, Phase.FAILED):
                self.log_line(slot, f"label scanned: {label}")
                self._start_cycle(slot, expect_id=label, reprovision=reprovision)
            self._next_label()

        self.app.push_screen(LabelDialog(slot), scanned)

    # ---- cycles -------------------------------------------------------------------------------

    def _start_cycle(
        self, slot: str, *, expect_id: str | None = None, reprovision: bool = False
    ) -> None:
        status = self.statuses[slot]
        if status.busy or status.port is None or self.closing:
            return
        self._stops[slot].set()  # the watcher lets go of the port (the lock waits for it)
        self._watch_no[slot] += 1
        self._set(started(status, status.port, self.setup.clock()))
        options = CycleOptions(self.operator, expect_id, reprovision)
        cycle = Cycle(
            self.setup.station,
            slot,
            status.port,
            options,
            listener=self._engine_event,
        )
        self.log_line(slot, "cycle started" + (" (re-provision)" if reprovision else ""))
        self.run_worker(
            partial(self._run_cycle, slot, cycle),
            name=f"cycle slot {slot}",
            group=f"cycle-{slot}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def run_qa(self, slot: str, port: str, context: QaContext) -> None:
        """QA the board on ``slot`` in a worker; the result arrives as a QaDone message."""
        qa_context = replace(context, operator=self.operator, slot=slot)

        def body() -> None:
            try:
                with (
                    self._locks[slot],
                    Link(port, timeout=self.setup.station.request_timeout) as link,
                ):
                    self._post(QaDone(slot, run_qa(link, qa_context)))
            except (StationError, LinkError) as e:
                self._post(QaDone(slot, None, str(e)))

        self.run_worker(body, name=f"qa slot {slot}", group=f"cycle-{slot}", thread=True,
                        exclusive=True, exit_on_error=False)  # fmt: skip

    def _engine_event(self, event: EngineEvent) -> None:
        """From a cycle's worker thread: to the log file, then to the screen as a message."""
        if self.setup.logbook is not None:
            self.setup.logbook(event)
        self._post(EngineUpdate(event))

    def _run_cycle(self, slot: str, cycle: Cycle) -> None:
        with self._locks[slot]:
            cycle.run()  # never raises; its result arrives through the listener

    def on_engine_update(self, message: EngineUpdate) -> None:
        event = message.event
        if isinstance(event, ConsoleText):
            self.log_line(event.slot, event.text, console=True)
            return
        status = apply(self.statuses[event.slot], event)
        self._set(status)
        if isinstance(event, CycleResult):
            self._finished(event)

    def _finished(self, result: CycleResult) -> None:
        slot = result.slot
        self.stats = self.stats.record(result)
        self.show_stats(self.stats)
        if result.failure is None:
            self.log_line(
                slot, f"PASS {result.board_uid} serial {result.serial} in {result.elapsed:.1f} s"
            )
        else:
            self.log_line(
                slot,
                f"FAIL {result.board_uid or '?'} {result.failure.code}: {result.failure.message}",
            )
        if self.closing:
            if not self.busy_slots():
                self.app.exit(self.stats)
            return
        self._verdicts[slot] += 1
        self._watch(slot, result.board_uid)
        feeder = self.setup.feeder
        if feeder is not None:
            token = self._verdicts[slot]
            self.set_timer(feeder.pause_after(result.passed), partial(self._swap, slot, token))

    # ---- the demo line ------------------------------------------------------------------------

    def _swap(self, slot: str, token: int) -> None:
        feeder = self.setup.feeder
        if feeder is None or self.closing or token != self._verdicts[slot]:
            return
        if self.statuses[slot].busy:
            return

        def body() -> None:
            if not self._locks[slot].acquire(blocking=False):
                return  # a retry is running: leave that board alone
            try:
                uid = feeder.swap(slot)
            finally:
                self._locks[slot].release()
            self.post_message(BoardSwapped(slot, uid))

        self.run_worker(
            body, name=f"swap slot {slot}", group=f"swap-{slot}", thread=True, exit_on_error=False
        )

    def on_board_swapped(self, message: BoardSwapped) -> None:
        self.log_line(message.slot, f"demo: next board {message.uid} placed on the slot")

    def on_station_note(self, message: StationNote) -> None:
        self.log_line(message.slot, message.text)

    # ---- a worker that crashed ----------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        self.log_line(None, f"{worker.name} crashed: {worker.error!r}")
        slot = worker.group.partition("-")[2]
        status = self.statuses.get(slot)
        if worker.group.startswith("cycle-") and status is not None and status.busy:
            failure = Failure(
                FailureKind.STATION,
                status.step or Step.HELLO,
                "station.worker",
                f"Station error on slot {slot}: {worker.error}; call the line engineer.",
            )
            self._set(replace(status, phase=Phase.FAILED, failure=failure, present=True))
            if self.closing and not self.busy_slots():
                self.app.exit(self.stats)
        self.app.push_screen(ErrorDialog(f"{worker.name} stopped", repr(worker.error)))
