"""The cycle's line rate (SPEC.md 7.10): right after HELLO's checks pass, ask the board for the
highest rate it announced within the jig's ``max_baud``; a board that could not hold that rate
is remembered with its slot, and not asked again there for the life of the process."""

from __future__ import annotations

import logging
import threading

from device_protocol import messages as m
from device_protocol.link import Link
from device_protocol.rate_switch import choose_rate, switch_rate

log = logging.getLogger(__name__)


class RateMemory:
    """(slot, board uid, rate) that failed: safe to share between the slots' threads."""

    def __init__(self) -> None:
        self._failed: set[tuple[str, str, int]] = set()
        self._lock = threading.Lock()

    def failed(self, slot: str, uid: str) -> frozenset[int]:
        with self._lock:
            return frozenset(r for s, u, r in self._failed if (s, u) == (slot, uid))

    def remember(self, slot: str, uid: str, rate: int) -> None:
        with self._lock:
            self._failed.add((slot, uid, rate))


def negotiate(
    link: Link, info: m.HelloInfo, slot: str, max_baud: int, memory: RateMemory
) -> tuple[int, str]:
    """Switch ``link`` and its board to the best rate both can run; the rate the line runs at
    afterwards, and a note for the operator when the board could not hold the one asked."""
    if memory.failed(slot, info.uid):  # SPEC.md 7.10 MEMORY: this slot does not ask again
        return link.rate, ""
    rate = choose_rate(info.bauds, max_baud)
    if rate is None:
        return link.rate, ""
    switched = switch_rate(link, rate, info.uid)
    if not switched.fell_back:
        return switched.rate, ""
    memory.remember(slot, info.uid, rate)
    log.warning(
        "slot %s %s: board %s could not run at %d baud (%s); it goes on at %d baud and is not "
        "asked again on this slot",
        slot,
        link.url,
        info.uid,
        rate,
        switched.reason,
        switched.rate,
    )
    note = f"ran at {switched.rate} baud: the board could not hold {rate}"
    return switched.rate, note
