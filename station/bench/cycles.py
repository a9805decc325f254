"""Cycle time against the physics of the wire, and gang scaling (station CPU per board:
:mod:`station.bench.cpu`)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from device_protocol.link import Link
from fixtures.board import BoardIdentity, BoardServer, Faults
from station.bench.boards import SimProcess
from station.bench.cpu import station_cpu
from station.bench.figures import Figure, at_least, at_most, info
from station.bench.homes import make_home, open_context
from station.engine.cycle import Cycle, CycleOptions
from station.engine.gang import provision_all

BAUD = 115200
KEYGEN_SECONDS = 0.5


def cycle_vs_physics(work: Path) -> list[Figure]:
    """One paced board: measured cycle / (bytes on the wire x 10 / baud + board compute)."""
    home = work / "physics"
    passphrase = make_home(home)
    station = open_context(home, passphrase)
    board = BoardServer(
        BoardIdentity.random(),
        work / "physics-boards",
        faults=Faults(baud=BAUD, keygen_delay=KEYGEN_SECONDS, boot_chatter=False),
    )
    board.start()
    links: list[Link] = []

    def factory(url: str, **kw: Any) -> Link:
        links.append(Link.open_url(url, **kw))
        return links[-1]

    try:
        result = Cycle(
            station, "1", board.url, CycleOptions(operator="bench"), link_factory=factory
        ).run()
    finally:
        board.stop()
        station.audit.close()
    if not result.passed:
        raise RuntimeError(f"bench cycle failed: {result.failure}")
    stats = links[0].stats
    wire = (stats.bytes_out + stats.bytes_in) * 10 / BAUD
    physics = wire + board.compute_seconds
    ratio = result.elapsed / physics
    return [
        at_most(
            "cycle / (wire + board compute)",
            ratio,
            1.10,
            "x",
            f"cycle {result.elapsed:.3f} s; wire {wire:.3f} s for "
            f"{stats.bytes_out + stats.bytes_in} bytes at {BAUD} baud; board compute "
            f"{board.compute_seconds:.3f} s (keygen {KEYGEN_SECONDS} s)",
        ),
        info("cycle wall time, paced", result.elapsed, "s"),
    ]


def scaling(work: Path, sizes: tuple[int, ...]) -> list[Figure]:
    """Throughput of N slots at once (paced boards) as a ratio to N x one slot."""
    home = work / "scaling"
    passphrase = make_home(home)
    station = open_context(home, passphrase)
    faults = (f"baud={BAUD}", f"keygen-delay={KEYGEN_SECONDS}", "no-boot-chatter")
    throughput: dict[int, float] = {}
    try:
        for n in sizes:
            with SimProcess(n, work / f"scaling-boards-{n}", faults) as urls:
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
    figures = [info("throughput, 1 slot", one * 3600, "/h")]
    for n in sizes[1:]:
        ratio = throughput[n] / (n * one)
        figures.append(
            at_least(
                f"scaling, {n} slots vs {n} x 1",
                ratio,
                0.9,
                "x",
                f"{throughput[n] * 3600:,.0f} boards/h",
            )
        )
    return figures


def run_all(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        work = Path(tmp)
        figures = cycle_vs_physics(work)
        figures += station_cpu(work, 5 if quick else 20)
        figures += scaling(work, (1, 4) if quick else (1, 4, 16, 32))
    return figures
