"""Key-press latency with 16 busy slots (a measurement, not a test: no threshold).

    .venv/bin/python -m tests.tui.latency [--boards 16] [--presses 40]

Runs the demo line headless (virtual boards on ptys, baud-paced, keygen delays of 3-6 s,
console chatter) and times F (log filter toggle) from the key press until the log pane has
switched, only while at least 12 slots are running a cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from textual import events

from fixtures.board import Faults
from station.line.demo import DemoLine
from station.line.demo_station import demo_line
from station.tui.app import StationApp


async def measure(app: StationApp, presses: int) -> list[tuple[float, int]]:
    samples: list[tuple[float, int]] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press(*"OP-BENCH", "enter")
        while app.line is None:
            await pilot.pause(0.05)
        line = app.line
        await pilot.press("1")
        pane = line.log_pane()
        deadline = time.monotonic() + 120
        while len(samples) < presses and time.monotonic() < deadline:
            busy = len(line.busy_slots())
            if busy < 12:
                await asyncio.sleep(0.05)
                continue
            before = pane.slot_filter
            start = time.perf_counter()
            # Post the key as the terminal driver does; pilot.press would also wait for idle.
            app.post_message(events.Key("f", "f"))
            while pane.slot_filter == before:
                await asyncio.sleep(0.0005)
            samples.append((time.perf_counter() - start, busy))
            await asyncio.sleep(0.1)
        await pilot.press("q", "q")
        while app.is_running:
            await pilot.pause(0.1)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--boards", type=int, default=16)
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    # Every board slow to make its key (3-6 s, with BUSY keep-alives), so slots stay busy.
    DemoLine.faults_for = lambda self, n: Faults(  # type: ignore[method-assign]
        keygen_delay=3 + (n * 7) % 4, chatter=0.3, baud=115200
    )
    with demo_line(args.boards, seed=1) as setup:
        samples = asyncio.run(measure(StationApp(setup), args.presses))
    ms = sorted(s * 1000 for s, _ in samples)
    busy = [b for _, b in samples]
    print(f"{len(ms)} presses with {min(busy)}-{max(busy)} of {args.boards} slots busy")
    print(
        f"key press to screen updated: median {statistics.median(ms):.1f} ms, "
        f"p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
