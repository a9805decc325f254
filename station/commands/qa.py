"""`station qa verify`: check a provisioned board against its certificate and the audit record."""

from __future__ import annotations

import json
import sys

import click

from device_protocol import Link
from station.commands.loaders import config_of, open_audit, operator_option
from station.commands.options import baud_option, json_option, timeout_option
from station.errors import ExitCode
from station.qa import QaContext, run_qa


@click.group()
def qa() -> None:
    """QA verification of provisioned boards."""


@qa.command()
@click.option("--port", "url", required=True, help="Serial port or pyserial URL of the board.")
@operator_option
@baud_option
@timeout_option
@json_option
@click.pass_context
def verify(
    ctx: click.Context, url: str, operator: str | None, baud: int, timeout: float, as_json: bool
) -> None:
    """HELLO, GET_CERT and SIGN, then every check with its own result: certificate, chain to
    the station root, audit record, status, proof of possession, AWS IoT profile, validity,
    locked. Records a QA event; exit 1 if any check fails."""
    config = config_of(ctx)
    with open_audit(config) as audit:
        context = QaContext.from_config(config, audit, operator)
        with Link.open_url(url, baudrate=baud, timeout=timeout) as link:
            report = run_qa(link, context)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        verdict = "PASS" if report.passed else f"FAIL ({', '.join(report.failed)})"
        click.echo(f"QA {verdict} board {report.board_uid} on {report.port}")
        for check in report.checks:
            click.echo(f"  {'ok  ' if check.ok else 'FAIL'} {check.name:<12} {check.detail}")
    sys.exit(ExitCode.of(report.passed))


COMMANDS = (qa,)
