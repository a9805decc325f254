"""The line: one card per slot, the shift's counters, the log.

The line's logic is in :class:`~station.line.controller.LineController`: this screen hands it
each event (a worker's message, a key, a dialog's answer, a timer) and carries out the effects
it returns; :class:`~station.tui.workers.SlotWorkers` runs the blocking ones in workers.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import assert_never

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from station.line.controller import LineController, LineRules
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
from station.line.setup import LineSetup
from station.line.shift import ShiftStats, ShiftSummary
from station.line.slot import Phase, SlotStatus
from station.line.wording import slots_phrase
from station.tui.dialogs.confirm import ConfirmDialog, QuitDialog
from station.tui.dialogs.error import ErrorDialog
from station.tui.dialogs.label import LabelDialog
from station.tui.dialogs.qa_report import QaReportDialog
from station.tui.dialogs.shift_summary import ShiftSummaryDialog
from station.tui.messages import (
    BoardArrived,
    BoardSwapped,
    EngineUpdate,
    FactoryLinkChanged,
    QaDone,
    SlotQuiet,
    WatcherFailed,
)
from station.tui.screens.help import HelpScreen
from station.tui.widgets.factory_link import FactoryLinkBar
from station.tui.widgets.log_pane import LogLine, LogPane
from station.tui.widgets.shift_counters import ShiftCounters
from station.tui.widgets.slot_card import SlotCard
from station.tui.workers import SlotWorkers


def grid_columns(slots: int) -> int:
    """Cards per row: all in one row up to four, then rows of four."""
    return min(4, max(1, slots))


class MainScreen(Screen[None]):
    """Dismissed (None) when the operator ends the shift."""

    DEFAULT_CSS = """
    MainScreen #slots { height: 1fr; grid-gutter: 0 1; padding: 0 0; }
    """
    BINDINGS = [
        Binding("s,enter", "start", "Start"),
        Binding("l", "label", "Scan label"),
        Binding("r", "retry", "Retry"),
        Binding("p", "reprovision", "Re-provision"),
        Binding("f", "filter", "Log filter"),
        Binding("v", "qa", "QA verify"),
        Binding("e", "end_shift", "End shift"),
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit_station", "Quit"),
        *[Binding(str(n), f"select({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(self, setup: LineSetup, operator: str) -> None:
        super().__init__()
        self.setup = setup
        self.operator = operator
        self.controller = LineController(LineRules.from_setup(setup, operator), setup.clock)
        self.slot_workers = SlotWorkers(self, setup)
        self.shift_started = setup.wall()

    def compose(self) -> ComposeResult:
        yield Header()
        yield ShiftCounters(self.operator, self.setup.station.station_id, id="counters")
        with Grid(id="slots"):
            for name in self.setup.slots:
                yield SlotCard(
                    self.statuses[name],
                    start=self.setup.start,
                    label_scan=self.setup.label_scan,
                    hint=self.setup.hints.get(name, ""),
                    id=f"slot-{name}",
                )
        if self.setup.factory is not None:
            yield FactoryLinkBar(id="factory-link")
        yield LogPane(id="log")
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one("#slots", Grid)
        grid.styles.grid_size_columns = grid_columns(len(self.setup.slots))
        self.query(SlotCard).first().focus()
        self.log_line(None, f"Shift started: operator {self.operator}")
        self.perform(self.controller.start())
        self.set_interval(0.5, lambda: self.tick(self.setup.clock()))
        self.slot_workers.factory_link()

    def on_unmount(self) -> None:
        self.slot_workers.stop_factory_link()
        self.perform(self.controller.stop())  # watchers end within a poll; cycles run to the end

    # ---- the line's state, for the app and for tests ------------------------------------------

    @property
    def statuses(self) -> dict[str, SlotStatus]:
        return self.controller.statuses

    @property
    def stats(self) -> ShiftStats:
        return self.controller.stats

    @stats.setter
    def stats(self, stats: ShiftStats) -> None:  # snapshots set the figures as they are
        self.controller.state = replace(self.controller.state, stats=stats)

    @property
    def closing(self) -> bool:
        return self.controller.closing

    def busy_slots(self) -> list[str]:
        return self.controller.busy_slots()

    def display_status(self, status: SlotStatus) -> None:
        """Show ``status`` on its card as is (for snapshots and replays)."""
        self.perform(self.controller.display(status))

    # ---- carrying out the controller's effects ------------------------------------------------

    def perform(self, effects: list[Effect]) -> None:
        for effect in effects:
            self.carry_out(effect)

    def carry_out(self, effect: Effect) -> None:
        match effect:
            case ShowStatus(status):
                self.show_status(status)
            case ShowStats(stats):
                self.show_stats(stats)
            case Log(slot, text, console):
                self.log_line(slot, text, console=console)
            case Notify(text, severity, timeout):
                self.notify(text, severity=severity, timeout=timeout)
            case ShowError(title, detail):
                self.app.push_screen(ErrorDialog(title, detail))
            case Watch(slot, known_uid, number):
                self.slot_workers.watch(slot, known_uid, number)
            case ScheduleWatch(slot, delay, number):
                self.set_timer(delay, partial(self.watch_due, slot, number))
            case StopWatching(slot):
                self.slot_workers.stop_watching(slot)
            case StartCycle(slot, port, options):
                self.slot_workers.cycle(slot, port, options)
            case RunQa(slot, port):
                if self.setup.qa is not None:
                    self.slot_workers.qa(slot, port, self.setup.qa, self.operator)
            case AskLabel(slot):
                self.app.push_screen(LabelDialog(slot), self.label_scanned)
            case ConfirmReprovision(slot, board_uid):
                self.confirm_reprovision(slot, board_uid)
            case ScheduleSwap(slot, delay, token):
                self.set_timer(delay, partial(self.swap_due, slot, token))
            case Swap(slot):
                self.slot_workers.swap(slot)
            case EndShift():
                self.dismiss(None)
            case Exit(stats):
                self.app.exit(stats)
            case _:
                assert_never(effect)

    def label_scanned(self, label: str | None) -> None:
        self.perform(self.controller.label_scanned(label))

    def swap_due(self, slot: str, token: int) -> None:
        self.perform(self.controller.swap_due(slot, token))

    def watch_due(self, slot: str, number: int) -> None:
        self.perform(self.controller.watch_due(slot, number))

    # ---- drawing ------------------------------------------------------------------------------

    def card(self, slot: str) -> SlotCard:
        return self.query_one(f"#slot-{slot}", SlotCard)

    def show_status(self, status: SlotStatus) -> None:
        card = self.card(status.name)
        card.now = self.setup.clock()
        card.status = status

    def show_stats(self, stats: ShiftStats) -> None:
        self.query_one(ShiftCounters).stats = stats

    def log_pane(self) -> LogPane:
        return self.query_one(LogPane)

    def tick(self, now: float) -> None:
        for name, status in self.statuses.items():
            if status.phase is Phase.RUNNING:
                self.card(name).now = now

    def log_line(self, slot: str | None, text: str, *, console: bool = False) -> None:
        self.log_pane().add(LogLine(self.setup.wall(), slot, text, console))

    # ---- what the workers tell ----------------------------------------------------------------

    def on_board_arrived(self, message: BoardArrived) -> None:
        self.perform(self.controller.board_seen(message.seen, message.watch))

    def on_slot_quiet(self, message: SlotQuiet) -> None:
        self.perform(self.controller.slot_quiet(message.vacant, message.watch))

    def on_watcher_failed(self, message: WatcherFailed) -> None:
        self.perform(self.controller.watcher_failed(message.slot, message.watch, message.error))

    def on_engine_update(self, message: EngineUpdate) -> None:
        self.perform(self.controller.engine_event(message.event))

    def on_board_swapped(self, message: BoardSwapped) -> None:
        self.perform(self.controller.board_swapped(message.slot, message.uid))

    def on_factory_link_changed(self, message: FactoryLinkChanged) -> None:
        bar = self.query_one(FactoryLinkBar)
        bar.text, bar.alarm = message.text, message.alarm

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        kind, _, slot = worker.group.partition("-")
        held = slot if kind == "cycle" else None  # the worker held that slot's port
        self.perform(self.controller.worker_crashed(worker.name, worker.error, cycle_slot=held))

    # ---- keys ---------------------------------------------------------------------------------

    def selected(self) -> str | None:
        focused = self.focused
        if isinstance(focused, SlotCard) and focused.status is not None:
            return focused.status.name
        if len(self.setup.slots) == 1:
            return self.setup.slots[0]
        self.notify("Select a slot first: Tab or its number.", severity="warning")
        return None

    def action_select(self, number: int) -> None:
        if number <= len(self.setup.slots):
            self.card(self.setup.slots[number - 1]).focus()

    def action_start(self) -> None:
        if (slot := self.selected()) is not None:
            self.perform(self.controller.start_pressed(slot))

    def action_label(self) -> None:
        if (slot := self.selected()) is not None:
            self.perform(self.controller.label_pressed(slot))

    def action_retry(self) -> None:
        if (slot := self.selected()) is not None:
            self.perform(self.controller.retry_pressed(slot))

    def action_reprovision(self) -> None:
        if (slot := self.selected()) is not None:
            self.perform(self.controller.reprovision_pressed(slot))

    def confirm_reprovision(self, slot: str, board_uid: str | None) -> None:
        dialog = ConfirmDialog(
            f"Re-provision board {board_uid} on slot {slot}?",
            "This board was provisioned before. A new key and certificate replace the old "
            "ones, and the old certificate is revoked. Do this only for a board that was "
            "erased or reworked on purpose.",
            yes="Re-provision",
            no="Leave it",
        )

        def answered(yes: bool | None) -> None:
            self.perform(self.controller.reprovision_answered(slot, board_uid, bool(yes)))

        self.app.push_screen(dialog, answered)

    def action_qa(self) -> None:
        if (slot := self.selected()) is not None:
            self.perform(self.controller.qa_pressed(slot))

    def on_qa_done(self, message: QaDone) -> None:
        report = message.report
        if report is None:
            self.log_line(message.slot, f"QA FAIL: {message.error}")
        else:
            for check in report.checks:
                self.log_line(
                    message.slot,
                    f"QA {'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}",
                )
            self.log_line(
                message.slot, f"QA {'PASS' if report.passed else 'FAIL'} {report.board_uid}"
            )
        self.app.push_screen(QaReportDialog(message.slot, report, message.error))

    def action_filter(self) -> None:
        pane = self.log_pane()
        if pane.slot_filter is not None:
            pane.set_filter(None)
        elif (slot := self.selected()) is not None:
            pane.set_filter(slot)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_end_shift(self) -> None:
        busy = self.busy_slots()
        if busy:
            self.notify(
                f"{slots_phrase(busy)} still working: end the shift when done.",
                severity="warning",
            )
            return
        summary = ShiftSummary(
            self.setup.station.station_id,
            self.operator,
            self.shift_started,
            self.setup.wall(),
            self.stats,
        )

        def answered(end: bool | None) -> None:
            if end:
                self.perform(self.controller.end_shift())

        self.app.push_screen(ShiftSummaryDialog(summary, self.setup.exporter), answered)

    def action_quit_station(self) -> None:
        busy = self.busy_slots()
        if busy:
            body = (
                f"{slots_phrase(busy)} working. The station starts no new cycle, "
                "waits for these to end and records them, then quits (each is bounded by its "
                "timeouts)."
            )
        else:
            body = "No cycle is running. End the shift (E) first for its summary."

        def answered(yes: bool | None) -> None:
            if yes:
                self.perform(self.controller.quit())

        self.app.push_screen(
            QuitDialog("Quit the station?", body, yes="Quit (Q)", no="Stay (N)"), answered
        )
