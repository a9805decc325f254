"""The Link waits for an answer in one read until its deadline, not in 50 ms steps: a board's
half-second keygen costs the station one wake-up, not ten (each wake-up is CPU the station
spends per board, times every slot of a jig). Real ptys, a virtual board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from device_protocol.link import Link
from device_protocol.transport import POLL, Transport
from fixtures.board import BoardServer, Faults
from station.engine.cycle import Cycle, CycleOptions
from station.engine.station import StationContext

KEYGEN = 0.65


class CountingReads:
    """A transport that counts the reads that returned nothing."""

    def __init__(self, line: Transport) -> None:
        self.line = line
        self.empty = 0

    @property
    def url(self) -> str:
        return self.line.url

    def read(self, wait: float = POLL) -> bytes:
        data = self.line.read(wait)
        self.empty += not data
        return data

    def write(self, data: bytes) -> None:
        self.line.write(data)

    def set_baudrate(self, rate: int) -> None:
        self.line.set_baudrate(rate)

    def close(self) -> None:
        self.line.close()


def test_a_slow_keygen_costs_the_station_one_wait_not_one_per_poll(
    station: StationContext, make_board: Callable[..., BoardServer]
) -> None:
    board = make_board(Faults(boot_chatter=False, keygen_delay=KEYGEN, busy=False))
    lines: list[CountingReads] = []

    def factory(url: str, **kw: Any) -> Link:
        link = Link.open_url(url, **kw)
        lines.append(CountingReads(link.transport))
        link.transport = lines[-1]
        return link

    result = Cycle(
        station, "1", board.url, CycleOptions(operator="op-1"), link_factory=factory
    ).run()
    assert result.passed, result.failure
    assert KEYGEN / POLL >= 12  # the keygen lasts a dozen polls
    assert lines[0].empty <= 2, f"{lines[0].empty} reads came back empty"
