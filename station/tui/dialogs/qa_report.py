"""QA of the board on one slot: each check with its result, a large PASS or FAIL."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from station.qa.runner import QaReport


class QaReportDialog(ModalScreen[None]):
    DEFAULT_CSS = """
    QaReportDialog { align: center middle; }
    QaReportDialog > Vertical {
        width: 100; height: auto; padding: 1 2; border: thick $primary; background: $surface;
    }
    QaReportDialog #verdict { text-style: bold; margin-bottom: 1; }
    QaReportDialog .pass { color: $success; }
    QaReportDialog .fail { color: $error; }
    """
    BINDINGS = [Binding("escape,enter", "close", "Back to the line")]

    def __init__(self, slot: str, report: QaReport | None, error: str = "") -> None:
        super().__init__()
        self.slot = slot
        self.report = report
        self.error = error

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical():
            if report is None:
                yield Label(f"QA slot {self.slot}: FAIL, nothing was checked", id="verdict",
                            classes="fail")  # fmt: skip
                yield Static(self.error, id="checks")
            else:
                verdict = "PASS" if report.passed else "FAIL"
                yield Label(
                    f"QA slot {self.slot}: {verdict}  board {report.board_uid}",
                    id="verdict",
                    classes="pass" if report.passed else "fail",
                )
                lines = [
                    f"{'PASS' if c.ok else 'FAIL'}  {c.name:<13} {c.detail}" for c in report.checks
                ]
                yield Static("\n".join(lines), id="checks")
            yield Button("Back to the line", id="back")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
