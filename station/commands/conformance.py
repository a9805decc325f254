"""`station conformance`: SPEC.md's conformance cases against a board's firmware."""

from __future__ import annotations

import json
import sys

import click

from device_protocol.conformance import CaseResult, run_conformance
from station.commands.options import baud_option, json_option, timeout_option
from station.errors import ExitCode


@click.command()
@click.option("--port", "url", required=True, help="Serial port or pyserial URL of the board.")
@baud_option
@timeout_option
@json_option
def conformance(url: str, baud: int, timeout: float, as_json: bool) -> None:
    """Check a board's firmware against the protocol (SPEC.md): every message and status code,
    chunking within its mtu, NAK of damaged frames, replay of a repeated sequence number, BUSY
    keep-alives, console output between frames, LOCK, and the limits the station checks right
    after HELLO (HELLO within the mtu, the uid alphabet, the chain storage). A case whose
    prerequisite failed is reported "not run".

    DESTRUCTIVE: the suite generates a key pair on the board, writes a throwaway certificate
    chain and LOCKS the board for good. Run it on a blank development board, never on one
    headed for the line. Exit 1 if any case fails."""

    def show(result: CaseResult) -> None:
        if not as_json:
            mark = {"passed": "ok  ", "failed": "FAIL"}.get(result.status, "skip")
            click.echo(f"  {mark} {result.name:<18} {result.detail}")

    if not as_json:
        click.echo(f"conformance of the board on {url} (destructive: keys and locks it)")
    report = run_conformance(url, baudrate=baud, timeout=timeout, on_result=show)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        verdict = "PASS" if report.passed else f"FAIL ({', '.join(report.failed)})"
        if report.not_run:
            verdict += f"; not run: {', '.join(report.not_run)}"
        click.echo(f"conformance {verdict}: {len(report.results)} cases")
    sys.exit(ExitCode.of(report.passed))


COMMANDS = (conformance,)
