"""A station fault the operator must see (a worker that crashed): title, text, OK."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ErrorDialog(ModalScreen[None]):
    DEFAULT_CSS = """
    ErrorDialog { align: center middle; }
    ErrorDialog > Vertical {
        width: 76; height: auto; padding: 1 2; border: thick $error; background: $surface;
    }
    ErrorDialog #title { text-style: bold; color: $error; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape,enter", "close", "OK")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title")
            yield Static(self.text)
            yield Static("Call the line engineer if this repeats.")
            yield Button("OK", id="ok")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
