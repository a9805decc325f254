"""The factory link in one line: synced, behind, unreachable since, or diverged."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class FactoryLinkBar(Static):
    """Set ``text`` (and ``alarm`` for a diverged station) to update."""

    DEFAULT_CSS = """
    FactoryLinkBar {
        height: 1;
        padding: 0 2;
        background: $boost;
    }
    """

    text: reactive[str] = reactive("factory: connecting...", layout=False)
    alarm: reactive[bool] = reactive(False, layout=False)

    def render(self) -> Text:
        return Text(self.text, style="bold #ff6b61" if self.alarm else "bright_black")
