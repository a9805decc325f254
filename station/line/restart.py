"""When a slot's watcher that failed is started again: a bounded, doubling back-off. Pure.

A watcher that raises something nobody foresaw (a port source, a probe, an OS error type that
escaped the serial library) must not cost the slot for the rest of the shift, nor hammer a hub
that is down: it is started again after 1 s, 2 s, 4 s ... up to 30 s. The count starts afresh
once a watcher finds a board, or when one that fails had run well for a while first.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Doublings after which the delay no longer grows (far past any cap; keeps floats finite).
_MAX_DOUBLINGS = 32


@dataclass(frozen=True)
class Backoff:
    """Seconds before a failed watcher starts again, after ``failures`` failures in a row."""

    first: float = 1.0
    cap: float = 30.0
    #: A watcher that ran this long before it failed was fine: its failure counts as the first.
    settled: float = 60.0

    def delay(self, failures: int) -> float:
        doublings = min(max(0, failures - 1), _MAX_DOUBLINGS)
        return min(self.cap, self.first * float(2**doublings))

    def failures_after(self, failures: int, ran: float) -> int:
        """The failures in a row once a watcher fails after running ``ran`` seconds."""
        return 1 if ran >= self.settled else failures + 1
