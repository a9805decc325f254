"""The line: one card per slot, the shift's counters, the log. Slot logic lives in SlotRunner."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Footer, Header

from station.line.setup import LineSetup
from station.line.shift import ShiftStats, ShiftSummary
from station.line.slot import Phase, SlotStatus
from station.line.wording import slots_phrase
from station.tui.dialogs.confirm import ConfirmDialog, QuitDialog
from station.tui.dialogs.qa_report import QaReportDialog
from station.tui.dialogs.shift_summary import ShiftSummaryDialog
from station.tui.messages import QaDone
from station.tui.runner import SlotRunner
from station.tui.screens.help import HelpScreen
from station.tui.widgets.log_pane import LogPane
from station.tui.widgets.shift_counters import ShiftCounters
from station.tui.widgets.slot_card import SlotCard


def grid_columns(slots: int) -> int:
    """Cards per row: all in one row up to four, then rows of four."""
    return min(4, max(1, slots))


class MainScreen(SlotRunner):
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
        self.init_runner(setup, operator)
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
        yield LogPane(id="log")
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one("#slots", Grid)
        grid.styles.grid_size_columns = grid_columns(len(self.setup.slots))
        self.query(SlotCard).first().focus()
        self.log_line(None, f"Shift started: operator {self.operator}")
        self.start_runner()

    # ---- what the runner calls back -----------------------------------------------------------

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
            self.operator_start(slot)

    def action_label(self) -> None:
        if (slot := self.selected()) is not None:
            self.ask_label(slot, reprovision=False)

    def action_retry(self) -> None:
        if (slot := self.selected()) is not None:
            self.operator_retry(slot)

    def action_reprovision(self) -> None:
        slot = self.selected()
        if slot is None:
            return
        status = self.statuses[slot]
        if not status.offers_reprovision or status.busy:
            self.notify(f"Slot {slot}: nothing to re-provision.", severity="warning")
            return
        dialog = ConfirmDialog(
            f"Re-provision board {status.board_uid} on slot {slot}?",
            "This board was provisioned before. A new key and certificate replace the old "
            "ones, and the old certificate is revoked. Do this only for a board that was "
            "erased or reworked on purpose.",
            yes="Re-provision",
            no="Leave it",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.log_line(slot, f"re-provisioning {status.board_uid}: confirmed")
                self.operator_retry(slot, reprovision=True)
            else:
                self.log_line(slot, f"re-provisioning {status.board_uid}: declined")

        self.app.push_screen(dialog, answered)

    def action_qa(self) -> None:
        slot = self.selected()
        if slot is None:
            return
        status = self.statuses[slot]
        if self.setup.qa is None:
            self.notify("QA is not set up on this station.", severity="warning")
        elif status.busy or status.port is None:
            self.notify(f"Slot {slot}: no idle board to verify.", severity="warning")
        else:
            self.log_line(slot, "QA verify started")
            self.run_qa(slot, status.port, self.setup.qa)

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
            if end and not self.busy_slots():
                self.log_line(None, "Shift ended")
                self.stop_runner()
                self.dismiss(None)

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
                self.close_line()

        self.app.push_screen(
            QuitDialog("Quit the station?", body, yes="Quit (Q)", no="Stay (N)"), answered
        )
