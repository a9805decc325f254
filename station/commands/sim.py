"""`station sim`: virtual boards on ptys for demos, tests and firmware-less trials."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

import click

from fixtures.board.faults import Faults, FaultSpecError, parse_fault
from fixtures.sim import Simulator


def parse_fault_options(specs: tuple[str, ...], boards: int) -> list[Faults]:
    """``[N:]SPEC`` options as one Faults per board (N counts from 1; no N: every board)."""
    faults = [Faults() for _ in range(boards)]
    for spec in specs:
        target, sep, rest = spec.partition(":")
        if sep and target.isdigit():
            index = int(target) - 1
            if not 0 <= index < boards:
                raise click.BadParameter(f"{spec}: board {target} is not in 1..{boards}")
            indexes, spec = [index], rest
        else:
            indexes = list(range(boards))
        try:
            for i in indexes:
                faults[i] = parse_fault(spec, faults[i])
        except FaultSpecError as e:
            raise click.BadParameter(str(e), param_hint="--fault") from e
    return faults


@click.command()
@click.option(
    "--boards", type=click.IntRange(1, 64), default=2, show_default=True, help="How many boards."
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sim-boards"),
    show_default=True,
    help="Folder for the boards' persistent state; boards found there are reused.",
)
@click.option("--model", default="VB-1", show_default=True, help="Model name new boards report.")
@click.option(
    "--mtu",
    type=click.IntRange(128, 65536),
    default=256,
    show_default=True,
    help="Line length new boards state in HELLO (SPEC.md 2.5).",
)
@click.option("--tcp", is_flag=True, help="Serve on loopback TCP (socket://) instead of ptys.")
@click.option(
    "--fault",
    "fault_specs",
    multiple=True,
    metavar="[N:]SPEC",
    help="Inject a fault into board N (default: all), e.g. 2:hang@KEYGEN, corrupt=0.01, "
    "keygen-delay=10, disconnect@PUT_CERT, bad-csr=weak-key, flash-fail, baud=115200.",
)
def sim(
    boards: int, state: Path, model: str, mtu: int, tcp: bool, fault_specs: tuple[str, ...]
) -> None:
    """Serve virtual boards: print one port URL per line, then serve until interrupted."""
    faults = parse_fault_options(fault_specs, boards)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Simulator(state, transport="tcp" if tcp else "pty") as simulator:
        for url in simulator.start(boards, faults, model=model, mtu=mtu):
            click.echo(url)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


COMMANDS = (sim,)
