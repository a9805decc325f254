"""Gang scaling at 115200 and 921600 (the wire's physics: :mod:`station.bench.rates`; station CPU
per board: :mod:`station.bench.cpu`).

N slots provision N paced boards at once, as a jig loaded in one go; the throughput is set
against N x one slot's. Each gang, one slot's included, is run :data:`REPEATS` times and the
run of median wall time counts, so one slow or lucky run on a shared machine does not decide
the ratio. Each figure's note carries its profile: the station's and the simulated
boards' CPU per board (the two share this machine's cores, where real boards bring their own),
and the mean time of each step at one slot and at N, which shows where a gang waits.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from station.bench.figures import Figure, at_least, info
from station.bench.gangs import GangRun, run_gang
from station.bench.homes import make_home, open_context
from station.engine.events import Step

BAUD = 115200
KEYGEN_SECONDS = 0.5
REPEATS = 3
#: The steps a note lists (keygen is the board's own 0.5 s).
SHOWN = (Step.HELLO, Step.CSR, Step.POLICY, Step.ISSUE, Step.DELIVER, Step.PROVE, Step.LOCK)


def _profile(one: GangRun, many: GangRun) -> str:
    """CPU per board and each step's mean time, one slot -> ``many.boards`` slots."""
    sim = "?" if many.sim_cpu is None else f"{many.sim_cpu * 1000:.1f}"
    steps = []
    for step in SHOWN:
        a, b = one.steps.mean(step), many.steps.mean(step)
        if a is not None and b is not None:
            steps.append(f"{step.value} {a * 1000:.0f}->{b * 1000:.0f}")
    return (
        f"{many.throughput * 3600:,.0f} boards/h; per board the station used "
        f"{many.station_cpu * 1000:.1f} ms of CPU and the simulated boards {sim} ms on the "
        f"same cores; mean ms per step, 1 -> {many.boards} slots: {', '.join(steps)}; "
        f"each gang the median of {REPEATS} runs"
    )


def median_gang(runs: list[GangRun]) -> GangRun:
    """The run of median wall time (the upper one of an even count)."""
    return sorted(runs, key=lambda run: run.wall)[len(runs) // 2]


def scaling(work: Path, sizes: tuple[int, ...], rate: int = BAUD) -> list[Figure]:
    """Throughput of N slots at once (paced boards) as a ratio to N x one slot; above 115200
    the boards announce ``rate`` and the jig's max_baud allows it (SPEC.md 7.10)."""
    home = work / f"scaling-{rate}"
    passphrase = make_home(home)
    station = replace(open_context(home, passphrase), max_baud=rate)
    faults: tuple[str, ...] = (f"baud={BAUD}", f"keygen-delay={KEYGEN_SECONDS}", "no-boot-chatter")
    if rate > BAUD:
        faults += (f"bauds={rate}",)
    runs: dict[int, GangRun] = {}
    try:
        run_gang(
            station, 1, work / f"scaling-warmup-{rate}", faults
        )  # imports, caches: not a board's
        for n in sizes:
            runs[n] = median_gang(
                [
                    run_gang(station, n, work / f"scaling-boards-{rate}-{n}-{k}", faults)
                    for k in range(REPEATS)
                ]
            )
    finally:
        station.audit.close()
    one = runs[sizes[0]]
    figures = [info(f"throughput, 1 slot, {rate} baud", one.throughput * 3600, "/h")]
    for n in sizes[1:]:
        figures.append(
            at_least(
                f"scaling, {n} slots vs {n} x 1, {rate} baud",
                runs[n].throughput / (n * one.throughput),
                0.9,
                "x",
                _profile(one, runs[n]),
            )
        )
    return figures
