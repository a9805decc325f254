"""The operator's app: sign in, run the line, end the shift, sign in again."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from station.line.setup import LineSetup
from station.line.shift import ShiftStats
from station.tui.screens.main import MainScreen
from station.tui.screens.signin import SignInScreen


class StationApp(App[ShiftStats]):
    """One station's line. ``operator`` skips the sign-in (for tests and kiosks).

    ``run()`` returns the last shift's figures when the station quits from a shift.
    """

    TITLE = "Provisioning station"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, setup: LineSetup, *, operator: str | None = None) -> None:
        super().__init__()
        self.setup = setup
        self.preset_operator = operator
        self.title = setup.title
        self.sub_title = f"station {setup.station.station_id}"

    def on_mount(self) -> None:
        if self.preset_operator is not None:
            self.signed_in(self.preset_operator)
        else:
            self.sign_in()

    def sign_in(self) -> None:
        self.push_screen(
            SignInScreen(self.setup.station.station_id, self.setup.title), self.signed_in
        )

    def signed_in(self, operator: str | None) -> None:
        if operator is None:
            return
        self.sub_title = f"station {self.setup.station.station_id} · operator {operator}"
        self.push_screen(MainScreen(self.setup, operator), self.shift_ended)

    def shift_ended(self, _result: None) -> None:
        self.sub_title = f"station {self.setup.station.station_id}"
        self.sign_in()

    @property
    def line(self) -> MainScreen | None:
        """The running line's screen, if a shift is open."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    async def action_quit(self) -> None:
        line = self.line
        if line is None or line.closing:
            self.exit()
        else:
            line.action_quit_station()
