"""The operator's screen with a factory store: the link's line, and the station's events pushed
by the worker while boards pass."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from fixtures.board import BoardServer
from station.engine.station import StationContext
from station.factory.background import FactoryLink
from station.factory.store import Store
from station.factory_config import FactorySection, ReserveMode
from station.line.setup import LineSetup
from station.line.slot import Phase
from station.tui.app import StationApp
from station.tui.widgets.factory_link import FactoryLinkBar
from tests.tui.conftest import BoardSlots, phases, wait_for


def test_the_screen_shows_the_link_and_the_worker_pushes(
    station: StationContext, store_url: str, make_board: Callable[..., BoardServer]
) -> None:
    slots = BoardSlots()
    slots.boards["1"] = make_board()
    section = FactorySection(store_url, "L1", ReserveMode.REQUIRED, connect_timeout=2)
    link = FactoryLink(section, station.station_id, station.audit.path, interval=0.2)
    setup = LineSetup(
        station=dataclasses.replace(station, request_timeout=0.5),
        slots=("1",),
        source=slots,
        poll=0.1,
        factory=link,
    )
    app = StationApp(setup, operator="OP17")

    def store_seq() -> int:
        with Store.connect(store_url) as store:
            return store.head(station.station_id).seq

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(pilot, lambda: phases(app)["1"] is Phase.PASSED, "a PASS card")
            local = max(e["seq"] for e in station.audit.events())
            await wait_for(pilot, lambda: store_seq() >= local, "the worker's push")
            bar = app.screen.query_one(FactoryLinkBar)
            await wait_for(pilot, lambda: bar.text == "factory: synced", "the synced line")
            assert not bar.alarm
            await pilot.press("q", "q")

    asyncio.run(scenario())
