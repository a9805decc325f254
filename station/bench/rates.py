"""The wire's physics across a negotiated rate (SPEC.md 1.2): one paced board per run, at 115200
(a 1.1 board: no ``bauds``, no final ``sha``, so the readback; a 1.2 board; and a 1.3 board, with
inline object bytes and text chunks) and at 921600 (a 1.3 board switched to it), with the same
0.5 s keygen. Each run's wire time counts every byte at
the rate it moved at (the HELLO and BAUD before the switch, and the RETURN, at 115200)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from device_protocol.link import Link
from fixtures.board import BoardIdentity, BoardServer, Faults
from station.bench.figures import Figure, at_least, at_most, info
from station.bench.homes import make_home, open_context
from station.engine.cycle import Cycle, CycleOptions
from station.engine.station import StationContext

DEFAULT = 115200
FAST = 921600
KEYGEN_SECONDS = 0.5
REPEATS = 3


@dataclass(frozen=True)
class Run:
    """One paced cycle: its wall time, wire time, board compute, bytes and requests."""

    elapsed: float
    wire: float
    compute: float
    bytes: int
    requests: int

    @property
    def physics(self) -> float:
        return self.wire + self.compute

    @property
    def ratio(self) -> float:
        return self.elapsed / self.physics


def _cycle(station: StationContext, faults: Faults, state: Path) -> Run:
    board = BoardServer(BoardIdentity.random(), state, faults=faults)
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
    if not result.passed:
        raise RuntimeError(f"bench cycle failed: {result.failure}")
    stats = links[0].stats
    return Run(
        result.elapsed,
        stats.wire_seconds,
        board.compute_seconds,
        stats.bytes_out + stats.bytes_in,
        stats.requests,
    )


def _median(station: StationContext, faults: Faults, state: Path) -> Run:
    runs = sorted((_cycle(station, faults, state) for _ in range(REPEATS)), key=lambda r: r.ratio)
    return runs[len(runs) // 2]


def _describe(run: Run, rate: str) -> str:
    return (
        f"cycle {run.elapsed:.3f} s; wire {run.wire:.3f} s for {run.bytes} bytes ({rate}); "
        f"board compute {run.compute:.3f} s (keygen {KEYGEN_SECONDS} s); median of {REPEATS}"
    )


def rate_physics(work: Path) -> list[Figure]:
    """cycle / physics at 115200 and at 921600, boards per hour per slot, bytes per cycle."""
    home = work / "rates"
    passphrase = make_home(home)
    station = open_context(home, passphrase)
    paced = Faults(baud=DEFAULT, keygen_delay=KEYGEN_SECONDS, boot_chatter=False)
    state = work / "rates-boards"
    try:
        old = _median(station, replace(paced, no_stored_digest=True), state)
        v12 = _median(station, replace(paced, spec_12=True), state)
        slow = _median(station, replace(paced, bauds=(FAST,)), state)  # max_baud 115200
        fast = _median(replace(station, max_baud=FAST), replace(paced, bauds=(FAST,)), state)
    finally:
        station.audit.close()
    per_hour = {
        name: 3600 / run.elapsed for name, run in (("old", old), ("slow", slow), ("fast", fast))
    }
    bound = slow.physics / fast.physics
    return [
        at_most(
            "cycle / (wire + board compute), 115200 baud",
            slow.ratio,
            1.10,
            "x",
            _describe(slow, "115200"),
        ),
        at_most(
            "cycle / (wire + board compute), 921600 baud",
            fast.ratio,
            1.10,
            "x",
            _describe(fast, "921600 after the switch; the switch's pauses count as station time"),
        ),
        at_least(
            "boards per hour per slot, 921600 vs 115200 (1.3 boards)",
            per_hour["fast"] / per_hour["slow"],
            2.0,
            "x",
            f"{per_hour['fast']:,.0f} vs {per_hour['slow']:,.0f} boards/h; the physics allows "
            f"at most {bound:.2f}x with a {KEYGEN_SECONDS} s keygen that no rate shortens",
        ),
        info(
            "boards per hour per slot, 921600 (1.3) vs 115200 (1.1 board)",
            per_hour["fast"] / per_hour["old"],
            "x",
            f"{per_hour['fast']:,.0f} vs {per_hour['old']:,.0f} boards/h (what a slot did before); "
            f"the physics allows at most {old.physics / fast.physics:.2f}x",
        ),
        info(
            "cycle / (wire + board compute), 1.1 board at 115200",
            old.ratio,
            "x",
            _describe(old, "115200"),
        ),
        info("bytes per cycle, 1.1 board (readback)", old.bytes, "B", f"{old.requests} requests"),
        info("bytes per cycle, 1.2 board (final sha)", v12.bytes, "B", f"{v12.requests} requests"),
        info(
            "bytes per cycle, 1.3 board (inline objects, text chunks)",
            slow.bytes,
            "B",
            f"{slow.requests} requests",
        ),
        info(
            "bytes per cycle, 1.3 board at 921600",
            fast.bytes,
            "B",
            f"{fast.requests} requests, including BAUD, proof HELLO, RETURN",
        ),
    ]
