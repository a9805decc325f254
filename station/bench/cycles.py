"""Station CPU per board and gang scaling at 115200 and 921600 (the wire's physics: rates.py)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from station.bench.boards import SimProcess
from station.bench.figures import Figure, at_least, at_most, info
from station.bench.homes import make_home, open_context
from station.bench.rates import FAST, rate_physics
from station.engine.cycle import Cycle, CycleOptions
from station.engine.gang import provision_all

BAUD = 115200
KEYGEN_SECONDS = 0.5


def station_cpu(work: Path, boards: int) -> list[Figure]:
    """Process CPU per board, boards in another process, for EC/RSA devices and intermediates
    (boards with the default 256-byte line), and for EC with 1024-byte lines."""
    cases = [(ca, dev, 256) for ca in ("ec-p256", "rsa-2048") for dev in ("ec-p256", "rsa-2048")]
    cases.append(("ec-p256", "ec-p256", 1024))
    homes: dict[str, tuple[Path, str]] = {}
    figures = []
    for intermediate, device, mtu in cases:
        if intermediate not in homes:
            home = work / f"cpu-{intermediate}"
            homes[intermediate] = (home, make_home(home, intermediate_key=intermediate))
        home, passphrase = homes[intermediate]
        cpu, wall = _cpu_per_board(home, passphrase, device, mtu, boards, work)
        figures.append(
            at_most(
                f"station CPU / board, {device} device, {intermediate} CA, mtu {mtu}",
                cpu * 1000,
                5,
                "ms",
                f"{boards} boards, {wall * 1000:.1f} ms wall each (unpaced)",
            )
        )
    return figures


def _cpu_per_board(
    home: Path, passphrase: str, device: str, mtu: int, boards: int, work: Path, *, pin: str = ""
) -> tuple[float, float]:
    station = open_context(home, passphrase, pin=pin, key_preference=(device,))
    state = work / f"cpu-boards-{home.name}-{device}-{mtu}"
    try:
        with SimProcess(boards, state, ("no-boot-chatter",), mtu=mtu) as urls:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            results = [
                Cycle(station, str(i), url, CycleOptions(operator="bench")).run()
                for i, url in enumerate(urls, 1)
            ]
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        station.audit.close()
    failed = [r.failure for r in results if not r.passed]
    if failed:
        raise RuntimeError(f"bench cycles failed: {failed[:3]}")
    return cpu / boards, wall / boards


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


def run_all(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        work = Path(tmp)
        figures = rate_physics(work)
        figures += station_cpu(work, 5 if quick else 20)
        for rate in (BAUD, FAST):
            figures += scaling(work, (1, 4) if quick else (1, 4, 16, 32), rate)
    return figures
