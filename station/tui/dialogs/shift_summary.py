"""End of shift: the figures, an export when one is configured, then sign out (True) or not."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from station.line.shift import ShiftExporter, ShiftSummary


class ShiftSummaryDialog(ModalScreen[bool]):
    DEFAULT_CSS = """
    ShiftSummaryDialog { align: center middle; }
    ShiftSummaryDialog > Vertical {
        width: 76; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    ShiftSummaryDialog #title { text-style: bold; margin-bottom: 1; }
    ShiftSummaryDialog #export-status { margin-top: 1; color: $text-muted; }
    ShiftSummaryDialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ShiftSummaryDialog Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "answer(False)", "Back to the line"),
        Binding("x", "export", "Export"),
    ]

    def __init__(self, summary: ShiftSummary, exporter: ShiftExporter | None) -> None:
        super().__init__()
        self.summary = summary
        self.exporter = exporter

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("End of shift", id="title")
            yield Static("\n".join(self.summary.lines()), id="summary")
            note = (
                "Export: press X to write the shift export."
                if self.exporter is not None
                else "Export: not configured on this station (the audit export is separate)."
            )
            yield Static(note, id="export-status")
            with Horizontal():
                yield Button("Back to the line", id="back")
                if self.exporter is not None:
                    yield Button("Export", id="export")
                yield Button("End shift and sign out", id="end", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self.action_export()
        else:
            self.dismiss(event.button.id == "end")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_export(self) -> None:
        if self.exporter is not None:
            self.query_one("#export-status", Static).update("Exporting...")
            self._export()

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self) -> None:
        assert self.exporter is not None
        try:
            text = self.exporter.export(self.summary)
        except Exception as e:  # shown to the operator, the shift stays open
            text = f"Export failed: {e}"
        self.app.call_from_thread(self._show_export, text)

    def _show_export(self, text: str) -> None:
        self.query_one("#export-status", Static).update(text)
