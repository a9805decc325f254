"""`station rotate`: a new key and certificate for a board this station provisioned before.

The same cycle as `provision --reprovision` (KEYGEN on the board, CSR, policy, signing, delivery,
proof of possession, LOCK), but only for a board with a current certificate here: the old
certificate is superseded by the new one (linked both ways in the audit record) and revoked
with reason ``superseded`` unless ``--keep-old-valid``. Publish the revocation with `station crl`.
"""

from __future__ import annotations

import json
import sys

import click

from device_protocol import Link
from station.commands.loaders import (
    config_of,
    open_audit,
    open_signer,
    operator_option,
    reserver_of,
)
from station.commands.options import json_option, timeout_option
from station.engine.compose import station_context
from station.engine.cycle import Cycle, CycleOptions
from station.engine.result_text import result_line
from station.errors import ExitCode, StationError


class RotateError(StationError):
    """The board cannot be rotated (unknown here, or not answering)."""


@click.command()
@click.option("--port", "url", required=True, help="Serial port or pyserial URL of the board.")
@operator_option
@click.option(
    "--keep-old-valid",
    is_flag=True,
    help="Supersede the old certificate without revoking it (default: revoke, reason superseded).",
)
@timeout_option
@json_option
@click.pass_context
def rotate(
    ctx: click.Context,
    url: str,
    operator: str | None,
    keep_old_valid: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Replace the certificate of a board provisioned here: new key on the board, new
    certificate, old one superseded (and revoked). The board must accept a new key (not locked:
    erase or reflash it first). Exit 1 if the rotation failed."""
    if not operator:
        raise click.UsageError("--operator (or STATION_OPERATOR) is required")
    config = config_of(ctx)
    with Link.open_url(url, timeout=timeout) as link:
        uid = link.hello().uid
    signer = open_signer(config)
    with open_audit(config) as audit:
        old = next((c for c in audit.board_certificates(uid) if c.status.active), None)
        if old is None:
            raise RotateError(
                f"board {uid} on {url} has no current certificate from this station: provision "
                "it with `station provision` instead"
            )
        station = station_context(
            config,
            audit,
            signer,
            request_timeout=timeout,
            revoke_superseded=not keep_old_valid,
            reserver=reserver_of(config),
        )
        options = CycleOptions(operator=operator, expect_id=uid, reprovision=True)
        result = Cycle(station, "rotate", url, options).run()
        after = audit.certificate(old.serial)
    record = {
        "port": url,
        "board": uid,
        "passed": result.passed,
        "old_serial": old.serial,
        "old_status": after.status.value if after else None,
        "new_serial": result.serial if result.passed else None,
        "error": result.failure.message if result.failure else None,
    }
    if as_json:
        click.echo(json.dumps(record))
    elif result.failure is not None:
        click.echo(result_line(result, where=f"rotate {url}"))
    else:
        click.echo(
            f"ROTATED {uid}: certificate {old.serial} is now {record['old_status']}, "
            f"superseded by {result.serial}. Publish the CRL with `station crl`."
        )
    sys.exit(ExitCode.of(result.passed))


COMMANDS = (rotate,)
