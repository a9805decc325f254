"""The demo line: virtual boards on ptys that come and go like boards on a real jig.

After a PASS the board in that slot is unplugged and a fresh one takes its place after a short
pause; a failed board waits longer (so the operator can read the card, or retry) before it is
swapped too. A few boards in each batch carry a realistic fault, so the FAIL path shows.
"""

from __future__ import annotations

import random
import threading

from fixtures.board import Faults
from fixtures.sim import Simulator

PAUSE_AFTER_PASS = 1.5
PAUSE_AFTER_FAIL = 8.0
#: Board numbers (counted from 1, in order of arrival, modulo the cycle) that misbehave.
FAULT_PLAN = {
    3: Faults(bad_csr="weak-key", chatter=0.3),  # the CSR policy refuses it: a FAIL at POLICY
    7: Faults(hang="KEYGEN"),  # a dead board: it stops answering during KEYGEN
}
FAULT_CYCLE = 11


class DemoLine:
    """A :class:`~station.jig.PortSource` over a simulator, slots named ``1``..``N``."""

    def __init__(self, sim: Simulator, *, seed: int | None = None, baud: int = 115200) -> None:
        self.sim = sim
        self._rng = random.Random(seed)
        self._baud = baud
        self._lock = threading.Lock()
        self._count = 0

    @property
    def slots(self) -> list[str]:
        return [str(i + 1) for i in range(len(self.sim.boards))]

    def faults_for(self, number: int) -> Faults:
        """The faults of the ``number``-th board to arrive (healthy boards vary in speed)."""
        planned = FAULT_PLAN.get((number - 1) % FAULT_CYCLE + 1)
        if planned is not None:
            return planned
        delay = round(self._rng.uniform(0.3, 2.5), 1)
        return Faults(keygen_delay=delay, chatter=0.3, baud=self._baud)

    def start(self, count: int) -> None:
        """Plug in the first ``count`` boards."""
        with self._lock:
            for _ in range(count):
                self._count += 1
                self.sim.add(faults=self.faults_for(self._count))

    def port(self, slot: str) -> str | None:
        with self._lock:
            board = self.sim.boards[int(slot) - 1]
            return board.url if board.connected else None

    def swap(self, slot: str) -> str:
        """Unplug the board on ``slot`` and plug in the next one; its uid."""
        with self._lock:
            self._count += 1
            faults = self.faults_for(self._count)
        board = self.sim.replace(int(slot) - 1, faults)
        return board.identity.uid

    @staticmethod
    def pause_after(passed: bool) -> float:
        return PAUSE_AFTER_PASS if passed else PAUSE_AFTER_FAIL
