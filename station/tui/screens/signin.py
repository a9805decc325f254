"""Operator sign-in: a barcode scanner types the operator id followed by Enter."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

OPERATOR_ID = re.compile(r"[A-Za-z0-9._@-]{1,32}")


class SignInScreen(Screen[str]):
    """Dismissed with the operator id."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen Vertical {
        width: 84; height: auto; padding: 1 3; border: thick $accent; background: $surface;
    }
    SignInScreen #station { text-style: bold; margin-bottom: 1; }
    SignInScreen #problem { color: $error; height: 1; }
    """

    def __init__(self, station_id: str, title: str) -> None:
        super().__init__()
        self.station_id = station_id
        self.heading = title

    def compose(self) -> ComposeResult:
        with Center(), Vertical():
            yield Label(f"{self.heading}: station {self.station_id}", id="station")
            yield Label("Scan your operator badge, or type your operator id and press Enter.")
            yield Input(placeholder="operator id", id="operator")
            yield Static("", id="problem")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    BINDINGS = [
        # Scanners set to end with LF, and Enter typed ahead while the app starts (the tty
        # turns it into LF), arrive as ctrl+j: treat it as Enter.
        Binding("ctrl+j", "submit", show=False, priority=True),
    ]

    def action_submit(self) -> None:
        self.submit(self.query_one(Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit(event.input)

    def submit(self, field: Input) -> None:
        value = field.value.strip()
        if OPERATOR_ID.fullmatch(value):
            self.dismiss(value)
            return
        problem = self.query_one("#problem", Static)
        problem.update(
            "An operator id is 1-32 letters, digits, '.', '_', '@' or '-'. Scan the badge again."
        )
        field.value = ""
