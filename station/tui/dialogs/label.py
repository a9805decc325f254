"""Scan (or type) the label of the board on one slot; the result is the label, or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class LabelDialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    LabelDialog { align: center middle; }
    LabelDialog > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    LabelDialog #title { text-style: bold; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Not now"),
        Binding("ctrl+j", "submit", show=False, priority=True),  # scanners ending in LF
    ]

    def __init__(self, slot: str) -> None:
        super().__init__()
        self.slot = slot

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Slot {self.slot}: scan the board's label", id="title")
            yield Label("The scanner types it and presses Enter. Escape: later.")
            yield Input(placeholder="board id from the label", id="label")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        value = self.query_one(Input).value.strip()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
