"""`station probe` and `station ports`: what is on the line."""

from __future__ import annotations

import json
import sys

import click

from device_protocol import Link, LinkError
from station.commands.options import baud_option, json_option, timeout_option
from station.errors import ExitCode
from station.ports import list_ports


@click.command()
@click.option("--port", "url", required=True, help="Serial port or pyserial URL of the board.")
@baud_option
@timeout_option
@json_option
def probe(url: str, baud: int, timeout: float, as_json: bool) -> None:
    """Ask the board on PORT who it is (HELLO) and print its answer."""
    try:
        with Link.open_url(url, baudrate=baud, timeout=timeout) as link:
            info = link.hello()
    except LinkError as e:
        if not as_json:
            raise  # one line on stderr, exit 1, like every command (station.cli.main)
        click.echo(json.dumps({"port": url, "ok": False, "error": str(e)}))
        sys.exit(ExitCode.FAILED)
    record = {
        "port": url,
        "ok": True,
        "board": info.uid,  # as in every board result
        "uid": info.uid,
        "model": info.model,
        "firmware": info.firmware,
        "protocol": info.version,
        "state": info.state.value,
        "key_types": list(info.key_types),
        "key_type": info.key_type,
        "mtu": info.mtu,
    }
    if as_json:
        click.echo(json.dumps(record))
        return
    key = f", key {info.key_type}" if info.key_type else ""
    click.echo(
        f"{url}: {info.uid} model {info.model} fw {info.firmware}, {info.state.value}{key}, "
        f"keys {','.join(info.key_types)}, mtu {info.mtu}"
    )


@click.command()
@json_option
def ports(as_json: bool) -> None:
    """List the serial ports of this machine with their USB identity."""
    found = list_ports()
    if as_json:  # a listing: one object per line, like `audit list`
        for p in found:
            click.echo(json.dumps(p.as_dict()))
        return
    if not found:
        click.echo("no serial ports found")
        return
    for p in found:
        click.echo(p.describe())


COMMANDS = (ports, probe)
