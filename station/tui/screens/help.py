"""What the keys do and what the cards mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# Operator help

**Each card is one slot of the jig.** Put a board on a slot: the station sees it answer and
starts (or waits for **S** if this station is set to start by key). Do not remove a board while
its card says **WORKING**.

| Card | Meaning | What to do |
| --- | --- | --- |
| **PASS** (green) | Certified, verified and locked | Remove it, place the next |
| **FAIL** (red) | The reason is written under it | Follow the words; **R** retries |
| **WORKING** (yellow) | A cycle is running | Wait; do not remove the board |
| **BOARD READY** | The board answered; not started | **S** starts, or scan its label |

| Key | Action |
| --- | --- |
| Tab / Shift+Tab, 1-9 | Select a slot |
| S or Enter | Start the selected slot (when started by key) |
| L | Scan the selected slot's label |
| R | Retry the selected slot after a FAIL |
| P | Re-provision a board provisioned before (asks first; its old certificate is revoked) |
| F | Log: only the selected slot / all slots |
| E | End the shift: summary, then sign out |
| ? | This help |
| Q | Quit (asks first; waits for running cycles so every board is recorded) |

Press Escape to close.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100; height: auto; max-height: 90%; border: thick $accent; background: $surface;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
