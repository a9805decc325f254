"""Gang scaling at 115200 and 921600 (the wire's physics: :mod:`station.bench.rates`; station CPU
per board: :mod:`station.bench.cpu`)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from station.bench.boards import SimProcess
from station.bench.figures import Figure, at_least, info
from station.bench.homes import make_home, open_context
from station.engine.gang import provision_all

BAUD = 115200
KEYGEN_SECONDS = 0.5


def scaling(work: Path, sizes: tuple[int, ...], rate: int = BAUD) -> list[Figure]:
    """Throughput of N slots at once (paced boards) as a ratio to N x one slot; above 115200
    the boards announce ``rate`` and the jig's max_baud allows it (SPEC.md 7.10)."""
    home = work / f"scaling-{rate}"
    passphrase = make_home(home)
    station = replace(open_context(home, passphrase), max_baud=rate)
    faults: tuple[str, ...] = (f"baud={BAUD}", f"keygen-delay={KEYGEN_SECONDS}", "no-boot-chatter")
    if rate > BAUD:
        faults += (f"bauds={rate}",)
    throughput: dict[int, float] = {}
    try:
        for n in sizes:
            with SimProcess(n, work / f"scaling-boards-{rate}-{n}", faults) as urls:
                start = time.perf_counter()
                results = provision_all(station, urls, operator="bench")
                wall = time.perf_counter() - start
            failed = [r.failure for r in results if not r.passed]
            if failed:
                raise RuntimeError(f"bench cycles failed: {failed[:3]}")
            throughput[n] = n / wall
    finally:
        station.audit.close()
    one = throughput[sizes[0]]
    figures = [info(f"throughput, 1 slot, {rate} baud", one * 3600, "/h")]
    for n in sizes[1:]:
        ratio = throughput[n] / (n * one)
        figures.append(
            at_least(
                f"scaling, {n} slots vs {n} x 1, {rate} baud",
                ratio,
                0.9,
                "x",
                f"{throughput[n] * 3600:,.0f} boards/h",
            )
        )
    return figures
