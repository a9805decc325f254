"""`station demo`: the station on throwaway virtual boards, nothing to set up."""

from __future__ import annotations

import sys

import click

from device_protocol import Link, LinkError
from fixtures.sim import virtual_boards


@click.command()
@click.option(
    "--boards", type=click.IntRange(1, 32), default=2, show_default=True, help="How many boards."
)
def demo(boards: int) -> None:
    """Start virtual boards on ptys, probe each one, print what answered, and stop them."""
    failed = 0
    with virtual_boards(boards) as sim:
        click.echo(f"{boards} virtual boards started")
        for slot, board in enumerate(sim.boards, start=1):
            console: list[str] = []
            try:
                with Link(board.url, on_console=console.append) as link:
                    info = link.hello()
            except LinkError as e:
                failed += 1
                click.echo(f"slot {slot}: FAIL {e}")
                continue
            click.echo(
                f"slot {slot}: {board.url}  {info.uid}  model {info.model}  fw {info.firmware}  "
                f"{info.state.value}  keys {','.join(info.key_types)}  mtu {info.mtu}"
            )
    click.echo("virtual boards stopped")
    sys.exit(1 if failed else 0)


COMMANDS = (demo,)
