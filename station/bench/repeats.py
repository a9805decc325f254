"""The same work timed several times. On a shared or virtual machine everything else that runs
only ever adds to a run's time, so the fastest run is the best estimate of what the work costs
(timeit's rule); the others go in the figure's note, to show what the machine added."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Runs:
    """Seconds of each run, in the order run."""

    seconds: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.seconds)

    def spread(self) -> str:
        """The runs, for a figure's note."""
        each = ", ".join(f"{s:.2f}" for s in self.seconds)
        return f"fastest of {len(self.seconds)} runs ({each} s)"


def repeat(times: int, work: Callable[[int], T]) -> tuple[Runs, T]:
    """Run ``work(n)`` for n in 0..times-1, each timed; the runs and the last one's result."""
    if times < 1:
        raise ValueError(f"times must be at least 1, not {times}")
    seconds = []
    for n in range(times):
        start = time.perf_counter()
        result = work(n)
        seconds.append(time.perf_counter() - start)
    return Runs(tuple(seconds)), result
