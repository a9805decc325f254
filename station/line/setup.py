"""Everything the operator's app needs, assembled by `station tui` or `station demo`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from station.engine.events import Listener
from station.engine.station import StationContext
from station.factory.background import FactoryLink
from station.jig import JigSection, PortSource
from station.line.restart import Backoff
from station.line.shift import ShiftExporter
from station.line.watch import Probe, hello_probe
from station.qa.runner import QaContext


class LineFeeder(Protocol):
    """Puts new boards on slots by itself (the demo's virtual line)."""

    def pause_after(self, passed: bool) -> float:
        """Seconds to wait after a verdict before the board is swapped."""

    def swap(self, slot: str) -> str:
        """Replace the board on ``slot`` with the next one (blocking); the new board's id."""


def local_now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class LineSetup:
    station: StationContext
    slots: tuple[str, ...]
    source: PortSource
    start: str = "auto"  # "auto" | "key"
    label_scan: bool = False
    poll: float = 0.5
    #: Where each slot's port is expected, for the card while no port is there.
    hints: dict[str, str] = field(default_factory=dict)
    feeder: LineFeeder | None = None
    exporter: ShiftExporter | None = None
    #: Also told every engine event (the station's rotating log).
    logbook: Listener | None = None
    #: QA of a slot's board (key V); None where QA is not set up.
    qa: QaContext | None = None
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = local_now
    probe: Probe = hello_probe
    #: When a slot's watcher that failed starts again.
    watch_backoff: Backoff = field(default_factory=Backoff)
    #: Pushes the station's events to the factory store from a worker; None without a store.
    factory: FactoryLink | None = None
    title: str = "Provisioning station"

    @classmethod
    def from_jig(cls, station: StationContext, jig: JigSection, source: PortSource) -> LineSetup:
        """A line over a jig definition."""
        return cls(
            station=station,
            slots=tuple(s.name for s in jig.slots),
            source=source,
            start=jig.start,
            label_scan=jig.label_scan,
            poll=jig.poll_ms / 1000,
            hints={s.name: s.describe() for s in jig.slots},
        )
