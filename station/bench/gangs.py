"""A gang of slots at once over simulated boards, timed: wall, the station's and the simulator's
CPU per board, and each step's time (for the bench's scaling and gang figures)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from station.bench.boards import SimRack
from station.engine.events import CycleResult, EngineEvent, Step, StepStarted
from station.engine.gang import provision_all
from station.engine.station import StationContext


class StepClock:
    """A listener that adds up how long each step took, over every slot's cycle."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, tuple[Step, float]] = {}
        self._spent: dict[Step, list[float]] = defaultdict(list)

    def __call__(self, event: EngineEvent) -> None:
        if not isinstance(event, StepStarted | CycleResult):
            return
        now = self._clock()
        with self._lock:
            begun = self._open.pop(event.slot, None)
            if begun is not None:
                self._spent[begun[0]].append(now - begun[1])
            if isinstance(event, StepStarted):
                self._open[event.slot] = (event.step, now)

    def mean(self, step: Step) -> float | None:
        spent = self._spent.get(step)
        return sum(spent) / len(spent) if spent else None


@dataclass(frozen=True)
class GangRun:
    boards: int
    wall: float
    station_cpu: float  # seconds per board
    sim_cpu: float | None  # seconds per board
    steps: StepClock

    @property
    def throughput(self) -> float:
        return self.boards / self.wall


def run_gang(station: StationContext, boards: int, state: Path, faults: tuple[str, ...]) -> GangRun:
    """``boards`` simulated boards (a :class:`SimRack`) provisioned at once, one thread each."""
    steps = StepClock()
    rack = SimRack(boards, state, faults)
    with rack as urls:
        sim0, cpu0 = rack.cpu(), time.process_time()
        start = time.perf_counter()
        results = provision_all(station, urls, operator="bench", listener=steps)
        wall = time.perf_counter() - start
        sim1, cpu1 = rack.cpu(), time.process_time()
    failed = [r.failure for r in results if not r.passed]
    if failed:
        raise RuntimeError(f"bench cycles failed: {failed[:3]}")
    sim = None if sim0 is None or sim1 is None else (sim1 - sim0) / boards
    return GangRun(boards, wall, (cpu1 - cpu0) / boards, sim, steps)
