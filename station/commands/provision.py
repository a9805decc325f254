"""`station provision`: headless provisioning of the boards on the given ports."""

from __future__ import annotations

import json
import sys

import click

from station.commands.loaders import (
    config_of,
    disk_full_note,
    open_audit,
    open_signer,
    operator_option,
    reserver_of,
)
from station.commands.options import json_option, timeout_option
from station.engine.compose import station_context
from station.engine.events import CycleResult
from station.engine.gang import provision_all
from station.engine.result_text import result_line
from station.errors import ExitCode
from station.logbook import Logbook
from station.phrasing import quoted


def _expect_ids(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        port, sep, uid = value.rpartition("=")
        if not sep or not port or not uid:
            raise click.BadParameter(f"{quoted(value)}: use PORT=ID", param_hint="--expect-id")
        out[port] = uid
    return out


def _record(result: CycleResult) -> dict[str, object]:
    failure = result.failure
    return {
        "slot": result.slot,
        "port": result.port,
        "board": result.board_uid,
        "outcome": result.outcome.value,
        "passed": result.passed,
        "serial": result.serial,
        "provisioned_at": None
        if result.provisioned_at is None
        else result.provisioned_at.isoformat(),
        "elapsed": round(result.elapsed, 3),
        "note": result.note,
        "failure": None
        if failure is None
        else {
            "kind": failure.kind.value,
            "step": failure.step.value,
            "code": failure.code,
            "message": failure.message,
        },
    }


@click.command()
@click.option("--port", "ports", multiple=True, required=True, help="A board's port (repeat).")
@operator_option
@click.option(
    "--expect-id",
    "expect",
    multiple=True,
    metavar="PORT=ID",
    help="The id on the board's label; the cycle stops before KEYGEN if the board differs.",
)
@click.option("--reprovision", is_flag=True, help="Replace the certificate of a known board.")
@timeout_option
@json_option
@click.pass_context
def provision(
    ctx: click.Context,
    ports: tuple[str, ...],
    operator: str | None,
    expect: tuple[str, ...],
    reprovision: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Provision the boards on the given ports, all at once; exit 0 only if every board passed
    or was already provisioned (locked with the certificate recorded for it)."""
    if not operator:
        raise click.UsageError("--operator (or STATION_OPERATOR) is required")
    config = config_of(ctx)
    signer = open_signer(config)
    with open_audit(config) as audit:
        for row in audit.undelivered():
            click.echo(
                f"note: certificate {row.serial} for board {row.board_uid} was issued but "
                "never confirmed delivered; it is delivered or revoked when that board returns",
                err=True,
            )
        station = station_context(
            config, audit, signer, request_timeout=timeout, reserver=reserver_of(config)
        )
        logbook = Logbook(config.home.log_file, config.station.id)
        try:
            results = provision_all(
                station,
                ports,
                operator=operator,
                expect_ids=_expect_ids(expect),
                reprovision=reprovision,
                listener=logbook,
            )
        finally:
            logbook.close()
        # Every result is printed before anything else can fail (closing files on a full disk).
        for result in results:
            click.echo(
                json.dumps(_record(result))
                if as_json
                else result_line(result, where=f"slot {result.slot} {result.port}")
            )
    note = disk_full_note(config, logbook, (r.failure.code for r in results if r.failure))
    if note is not None:
        click.echo(f"error: {note}", err=True)
    sys.exit(ExitCode.of(all(r.good for r in results)))


COMMANDS = (provision,)
