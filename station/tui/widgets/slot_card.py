"""One slot of the jig: its board, the cycle's steps, and a verdict readable from a meter away."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from station.engine.events import Step
from station.line.slot import Phase, SlotStatus
from station.line.wording import STEP_SHORT, STEPS, next_action, state_line
from station.tui.bigtext import big

_BANNER = {Phase.PASSED: "PASS", Phase.FAILED: "FAIL"}


def step_strip(status: SlotStatus) -> Text:
    """HEL KEY CSR ... with done steps green, the current one highlighted, a failed one red."""
    text = Text()
    current = STEPS.index(status.step) if status.step is not None else -1
    for n, step in enumerate(STEPS):
        if n:
            text.append(" ")
        text.append(STEP_SHORT[step], _step_style(status, n, current, step))
    return text


def _step_style(status: SlotStatus, n: int, current: int, step: Step) -> str:
    phase = status.phase
    if phase is Phase.PASSED:
        return "bold green"
    if phase is Phase.FAILED and n == current:
        return "bold #ffffff on #b3261e"
    if phase is Phase.RUNNING and n == current:
        return "bold #000000 on #f2c744"
    if current >= 0 and n < current and phase in (Phase.RUNNING, Phase.FAILED):
        return "green"
    return "bright_black"


class SlotCard(Widget, can_focus=True):
    """Renders a :class:`SlotStatus`; the screen replaces ``status`` as events arrive."""

    DEFAULT_CSS = """
    SlotCard {
        border: round $panel-lighten-2;
        padding: 0 0 0 1;
        height: 1fr;
        border-title-style: bold;
        border-title-color: $text;
    }
    SlotCard:focus { border: heavy $accent; }
    SlotCard.-running { border: round #f2c744; }
    SlotCard.-running:focus { border: heavy #f2c744; }
    SlotCard.-passed { border: round #2e9e50; }
    SlotCard.-passed:focus { border: heavy #2e9e50; }
    SlotCard.-already { border: round $panel-lighten-3; }
    SlotCard.-already:focus { border: heavy $panel-lighten-3; }
    SlotCard.-failed { border: round #d9453b; }
    SlotCard.-failed:focus { border: heavy #d9453b; }
    SlotCard > #banner {
        width: 1fr; text-align: center; margin: 1 1 1 0; color: $text-muted;
    }
    SlotCard.-passed > #banner { background: #1f7a3a; color: #ffffff; text-style: bold; }
    SlotCard.-failed > #banner { background: #b3261e; color: #ffffff; text-style: bold; }
    SlotCard.-already > #banner { background: $panel-lighten-2; color: $text; text-style: bold; }
    SlotCard.-running > #banner { background: #f2c744; color: #000000; text-style: bold; }
    SlotCard.-ready > #banner { background: $foreground; color: $background; text-style: bold; }
    SlotCard > #reason { color: #ff8a80; }
    """

    status: reactive[SlotStatus | None] = reactive(None, layout=False)
    now: reactive[float] = reactive(0.0)

    def __init__(
        self, status: SlotStatus, *, start: str, label_scan: bool, hint: str = "", id: str
    ) -> None:
        super().__init__(id=id)
        self.start = start
        self.label_scan = label_scan
        self.hint = hint
        self.set_reactive(SlotCard.status, status)
        self.border_title = f"Slot {status.name}"

    def compose(self) -> ComposeResult:
        yield Static(id="info")
        yield Static(id="banner")
        yield Static(id="reason")
        yield Static(id="action")

    def on_mount(self) -> None:
        self.watch_status(self.status)

    def on_resize(self) -> None:
        self.watch_status(self.status)

    def watch_now(self) -> None:
        if self.is_mounted and self.status is not None:
            self.query_one("#info", Static).update(self._info(self.status))

    def watch_status(self, status: SlotStatus | None) -> None:
        if status is None or not self.is_mounted:
            return
        for phase in Phase:
            self.set_class(status.phase is phase, f"-{phase.value}")
        self.border_subtitle = status.port or self.hint or "no port"
        self.query_one("#info", Static).update(self._info(status))
        self.query_one("#banner", Static).update(self._banner(status, self.size.height >= 18))
        reason = self.query_one("#reason", Static)
        lines = [status.failure.message] if status.failure else []
        if status.watch_error:
            lines.append(status.watch_error)
        reason.update("\n".join(lines))
        reason.display = bool(lines)
        action = next_action(status, start=self.start, label_scan=self.label_scan)
        self.query_one("#action", Static).update(Text("Next: ", "bold").append(action, "bold"))

    def _info(self, status: SlotStatus) -> Group:
        board = Text("Board ", "bright_black").append(status.board_uid or "—", "bold")
        line = Text(state_line(status, self.now), "bold" if status.busy else "")
        return Group(board, step_strip(status), line)

    @staticmethod
    def _banner(status: SlotStatus, tall: bool) -> str:
        if status.phase in _BANNER:
            return "\n".join(big(_BANNER[status.phase], tall=tall))
        if status.phase is Phase.RUNNING:
            return "WORKING: do not remove"
        if status.phase is Phase.ALREADY:
            return f"ALREADY PROVISIONED\ncertificate {status.serial}"
        if status.phase is Phase.READY:
            return "BOARD READY"
        return "EMPTY"
