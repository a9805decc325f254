"""The TUI's factory link over a real PostgreSQL: synced, unreachable (the line goes on), back,
diverged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from station.factory.background import FactoryLink
from station.factory.link_status import describe
from station.factory_config import FactorySection, ReserveMode
from tests.factory.pg_server import PgServer
from tests.factory.stations import station_db
from tests.factory.tamper import rewrite

T = datetime(2026, 3, 1, 9, 41).astimezone()


def test_the_link_through_an_outage_and_a_divergence(
    pg_server: PgServer, store_url: str, new_db: Callable[[str], Path]
) -> None:
    path = station_db(new_db("st1"), "st1", 4)
    section = FactorySection(store_url, "L1", ReserveMode.OFF, connect_timeout=2)
    link = FactoryLink(section, "st1", path, wall=lambda: T)
    assert describe(link.step()) == "factory: synced"
    pg_server.stop()
    try:
        station_db(path, "st1", 3, first=4)  # the line goes on
        assert describe(link.step()) == (
            "factory: unreachable since 09:41 (15 events behind); the line goes on"
        )
    finally:
        pg_server.start()
    assert describe(link.step()) == "factory: synced"
    rewrite(path, 7, "edited")
    assert describe(link.step()) == "factory: DIVERGED at seq 7: call the supervisor"
    link.close()
