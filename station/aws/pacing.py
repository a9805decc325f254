"""Pacing of cloud calls: a rate limit per API and exponential backoff with jitter.

Pure apart from the clock and the sleep they are given, so tests drive them with fake time.
AWS IoT's documented quotas are per account and per API (about 10 registrations per second);
the station stays under them by spacing the calls of each API, and backs off on throttling.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

#: Error codes worth another try: throttling and transient service faults.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailureException",
        "InternalServerException",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def retryable(code: str, http_status: int | None = None) -> bool:
    """True for throttling and transient errors (and any HTTP 429 or 5xx)."""
    return code in RETRYABLE_CODES or http_status == 429 or (http_status or 0) >= 500


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: try ``attempts`` times in all."""

    base: float = 0.2
    cap: float = 5.0
    attempts: int = 8

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        return rng.uniform(0, min(self.cap, self.base * 2 ** (retry - 1)))


class RateLimiter:
    """At most ``rate`` calls per second for each API name, spaced evenly (no bursts).

    Thread-safe: the sync's workers share one limiter, so the account's quota holds whatever
    the concurrency.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, api: str) -> float:
        """Book the next slot for ``api``; return how long to wait for it."""
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(api, now))
            self._next[api] = slot + self.interval
            return slot - now

    def wait(self, api: str) -> None:
        """Block until ``api`` may be called again."""
        delay = self.reserve(api)
        if delay > 0:
            self.sleep(delay)
