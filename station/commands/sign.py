"""`station sign`: manual issuance for a CSR that arrived another way; same policy, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

import click

from station.audit import NewEvent
from station.commands.loaders import (
    config_of,
    event_context,
    open_audit,
    open_signer,
    operator_option,
)
from station.commands.reports import action_record
from station.files import replace_file
from station.pki.errors import PolicyRejection
from station.pki.policy import check_csr
from station.pki.profile import ReportedIdentity
from station.pki.signer import utc_now


@click.command()
@click.option(
    "--csr",
    "csr_file",
    type=click.File("rb"),
    required=True,
    help="The CSR, PEM or DER ('-' for stdin).",
)
@click.option("--device-id", required=True, help="The board's unique id (serialNumber).")
@click.option("--model", default="", help="Board model, for a {model} subject template.")
@click.option("--firmware", default="", help="Board firmware version, for the audit record.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the certificate here [default: stdout].",
)
@click.option("--chain", is_flag=True, help="Append the intermediate certificate to the output.")
@click.option("--json", "as_json", is_flag=True, help="Print the issuance record as JSON.")
@operator_option
@click.pass_context
def sign(
    ctx: click.Context,
    csr_file: BinaryIO,
    device_id: str,
    model: str,
    firmware: str,
    out: Path | None,
    chain: bool,
    as_json: bool,
    operator: str | None,
) -> None:
    """Check a CSR against the station policy and issue a device certificate for it.

    The certificate is recorded (ISSUED) before it is written out; a refusal is recorded too.
    """
    config = config_of(ctx)
    board = ReportedIdentity(uid=device_id, model=model, firmware=firmware)
    data = csr_file.read(config.policy.max_csr_bytes + 1)
    audit_ctx = event_context(config, operator)
    with open_audit(config) as audit:
        try:
            accepted = check_csr(
                data,
                board,
                policy=config.csr_policy(),
                profile=config.device_profile(),
                key_known=audit.key_known,
            )
        except PolicyRejection as e:
            audit.record_event(
                NewEvent("REJECTED", board.uid, code=e.code, text=e.message, data={"via": "sign"}),
                audit_ctx,
                utc_now(),
            )
            raise
        signer = open_signer(config)
        issued = signer.sign(accepted)
        audit.record_issued(issued, audit_ctx, utc_now())
    pem = issued.pem + (signer.issuer_pem if chain else "")
    if out:
        replace_file(out, pem.encode("ascii"))
    record = {
        **action_record("sign", {"out": out}),
        "serial": issued.serial_hex,
        "subject": issued.subject,
        "key": accepted.key_label,
        "not_before": issued.not_before.isoformat(),
        "not_after": issued.not_after.isoformat(),
        "sha256": issued.sha256,
        "out": str(out) if out else None,
    }
    if as_json:
        click.echo(json.dumps(record))
    elif out:
        click.echo(f"Issued {issued.serial_hex} for {issued.subject} -> {out}")
    else:
        click.echo(pem, nl=False)


COMMANDS = (sign,)
