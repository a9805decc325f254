"""``station bench --profile-cpu``: where the station's CPU goes in an EC/EC cycle.

Two views of the same unpaced cycles (boards in another process): the thread CPU spent in each
step of the cycle (a listener reads the thread's CPU clock at every step), and cProfile's
functions by their own CPU time (the profiler's timer is the thread's CPU clock, so waiting on
the port costs nothing there). The profiler slows Python code down about twofold: read its
figures as shares; the step table comes from a separate run without it.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from station.bench.cpu import TARGET_CASE, measure
from station.bench.homes import make_home
from station.engine.events import CycleResult, StepStarted

#: CPU before a cycle's first step: building the cycle and opening the port.
OPEN = "open port"
#: The plain cycles' process CPU is timed in this many batches (see CpuRun).
BATCHES = 5


class StepClock:
    """A cycle listener that adds up the thread CPU between step changes, per step."""

    def __init__(self, clock: Callable[[], float] = time.thread_time) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = defaultdict(float)
        self._step = OPEN
        self._mark = clock()

    def restart(self) -> None:
        """Count from now (the cycles before were not this clock's)."""
        self._step = OPEN
        self._mark = self.clock()

    def counting(self, run: Callable[[], object]) -> object:
        """``run()``, counted from its start: a ``wrap`` for :func:`measure`."""
        self.restart()
        return run()

    def __call__(self, event: object) -> None:
        if isinstance(event, StepStarted | CycleResult):
            now = self.clock()
            self.seconds[self._step] += now - self._mark
            self._mark = now
            self._step = event.step.value if isinstance(event, StepStarted) else OPEN

    def table(self, boards: int) -> str:
        total = sum(self.seconds.values())
        lines = [f"{'step':<12} {'ms/board':>9} {'share':>6}"]
        for step, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            share = seconds / total if total else 0.0
            lines.append(f"{step:<12} {seconds / boards * 1000:>9.3f} {share:>6.1%}")
        lines.append(f"{'total':<12} {total / boards * 1000:>9.3f}")
        return "\n".join(lines)


def profile_cpu(work: Path, boards: int, top: int = 25) -> str:
    """For EC/EC at mtu 256: the CPU per step of ``boards`` plain cycles, then the ``top``
    functions by own CPU time over as many cycles run under the profiler."""
    intermediate, device, mtu = TARGET_CASE
    home = work / "profile-home"
    passphrase = make_home(home, intermediate_key=intermediate)
    clock = StepClock()
    (work / "steps").mkdir()
    plain = measure(
        home,
        passphrase,
        device,
        mtu,
        boards,
        work / "steps",
        listener=clock,
        wrap=clock.counting,
        batches=BATCHES,
    )
    profiler = cProfile.Profile(time.thread_time)
    (work / "profiled").mkdir()
    measure(home, passphrase, device, mtu, boards, work / "profiled", wrap=profiler.runcall)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return "\n\n".join(
        [
            f"{boards} unpaced cycles, {device} device, {intermediate} CA, mtu {mtu}: "
            f"{plain.cpu * 1000:.2f} ms of process CPU per board, {plain.spread()}; chain "
            f"read-back {plain.readback_cpu * 1000:.2f} ms of it; thread CPU per step (all "
            "batches):",
            clock.table(boards),
            "The same number of cycles under cProfile (CPU clock; Python code runs about "
            "twice as slow there), functions by own time:",
            out.getvalue().strip(),
        ]
    )
