"""Station events and board console lines, newest last, filterable by slot."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widgets import RichLog

KEEP = 5000


@dataclass(frozen=True)
class LogLine:
    at: datetime
    slot: str | None  # None: the station itself
    text: str
    console: bool = False  # a board's own console output, not a station event


class LogPane(RichLog):
    """Keeps the last :data:`KEEP` lines so a filter can be changed after the fact."""

    DEFAULT_CSS = """
    LogPane {
        height: 10;
        border: round $panel-lighten-2;
        border-title-color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=False, markup=False, highlight=False, max_lines=KEEP)
        self.lines_kept: deque[LogLine] = deque(maxlen=KEEP)
        self.slot_filter: str | None = None
        self._title()

    def _title(self) -> None:
        which = "all slots" if self.slot_filter is None else f"slot {self.slot_filter} only"
        self.border_title = f"Log: {which}  (F: filter on the selected slot / all)"

    def add(self, line: LogLine) -> None:
        self.lines_kept.append(line)
        if self._shown(line):
            self.write(self._format(line))

    def set_filter(self, slot: str | None) -> None:
        """Show only ``slot``'s lines (None: everything), re-drawing from what was kept."""
        self.slot_filter = slot
        self._title()
        self.clear()
        for line in self.lines_kept:
            if self._shown(line):
                self.write(self._format(line))

    def _shown(self, line: LogLine) -> bool:
        return self.slot_filter is None or line.slot == self.slot_filter

    @staticmethod
    def _format(line: LogLine) -> Text:
        text = Text(f"{line.at:%H:%M:%S} ", "bright_black")
        text.append(f"[{line.slot}] " if line.slot else "[station] ", "bold")
        text.append(line.text, "bright_black" if line.console else "")
        return text
