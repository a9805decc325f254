"""The shift's figures in one bar: passed, failed, yield, median cycle time."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from station.line.shift import ShiftStats, format_median, format_yield


class ShiftCounters(Static):
    """Replace ``stats`` to update; the operator's id is shown alongside."""

    DEFAULT_CSS = """
    ShiftCounters {
        height: 3;
        padding: 1 2;
        background: $boost;
    }
    """

    stats: reactive[ShiftStats] = reactive(ShiftStats, layout=False)

    def __init__(self, operator: str, station_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.operator = operator
        self.station_id = station_id

    def render(self) -> Text:
        s = self.stats
        text = Text()
        text.append("PASSED ", "bold").append(f"{s.passed:<5}", "bold #4cc26b")
        text.append("  FAILED ", "bold").append(f"{s.failed:<5}", "bold #ff6b61")
        if s.already:
            text.append("  ALREADY ", "bold").append(f"{s.already:<5}", "bold")
        text.append("  YIELD ", "bold").append(f"{format_yield(s):<7}", "bold")
        text.append("  MEDIAN CYCLE ", "bold").append(f"{format_median(s):<8}", "bold")
        text.append(f"    operator {self.operator}  ·  station {self.station_id}", "bright_black")
        return text
