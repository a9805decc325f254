"""`station demo`: the operator's app on a throwaway station with virtual boards on ptys."""

from __future__ import annotations

import click

from station.line.demo_station import demo_line


@click.command()
@click.option(
    "--boards", type=click.IntRange(1, 32), default=4, show_default=True, help="How many slots."
)
@click.option("--seed", type=int, default=None, help="Fix the virtual boards' timing (testing).")
def demo(boards: int, seed: int | None) -> None:
    """The operator's app on virtual boards: sign in with any operator id and watch them pass.

    A throwaway station home (its own CA, passphrases kept in this process only) and virtual
    boards on ptys; each board that passes is replaced by a fresh one, and a few misbehave so
    the FAIL path shows. Q twice quits; nothing is left behind.
    """
    from station.tui.app import StationApp

    with demo_line(boards, seed=seed) as setup:
        stats = StationApp(setup).run()
    if stats is not None:
        click.echo(
            f"Demo ended: {stats.passed} passed, {stats.failed} failed; throwaway station removed."
        )
    else:
        click.echo("Demo ended; throwaway station removed.")


COMMANDS = (demo,)
