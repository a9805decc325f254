"""`station revoke` and `station crl`: revocation and the intermediate's CRL."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from station.commands.loaders import (
    config_of,
    event_context,
    open_audit,
    open_ca_key,
    operator_option,
)
from station.commands.options import json_option
from station.commands.reports import action_record, emit_action
from station.files import replace_file
from station.phrasing import quoted
from station.pki.ca import load_certificate
from station.pki.crl import REASONS, RevokedEntry, build_crl
from station.pki.errors import PkiError
from station.pki.serials import parse_serial, serial_hex
from station.pki.signer import utc_now


@click.command()
@click.argument("serial")
@click.option(
    "--reason",
    type=click.Choice(sorted(REASONS)),
    required=True,
    help="Why; recorded and published in the CRL.",
)
@operator_option
@json_option
@click.pass_context
def revoke(
    ctx: click.Context, serial: str, reason: str, operator: str | None, as_json: bool
) -> None:
    """Revoke a device certificate by SERIAL (hex). Run `station crl` to publish it."""
    config = config_of(ctx)
    try:
        number = parse_serial(serial)
    except ValueError as e:
        raise PkiError(f"{quoted(serial)} is not a hex serial number ({e})") from e
    with open_audit(config) as audit:
        audit.revoke(serial_hex(number), reason, utc_now(), event_context(config, operator))
    record = action_record("revoke", serial=serial_hex(number), reason=reason)
    emit_action(
        as_json, record, f"Revoked {serial_hex(number)} ({reason}); publish with `station crl`."
    )


@click.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the CRL here (PEM)."
)
@click.option("--der", is_flag=True, help="Write --out as DER instead of PEM.")
@operator_option
@json_option
@click.pass_context
def crl(
    ctx: click.Context, out: Path | None, der: bool, operator: str | None, as_json: bool
) -> None:
    """Sign a new CRL with the station intermediate, listing every revoked certificate."""
    config = config_of(ctx)
    issuer = load_certificate(config.ca.intermediate_cert)
    key = open_ca_key(config)
    now = utc_now()
    with open_audit(config) as audit:
        entries = [
            RevokedEntry(int(r.serial_hex, 16), r.revoked_at, r.reason) for r in audit.revoked()
        ]
        number = audit.next_crl_number()
        next_update = now + timedelta(hours=config.crl.next_update_hours)
        signed = build_crl(
            issuer, key, entries, number=number, this_update=now, next_update=next_update
        )
        pem = signed.public_bytes(serialization.Encoding.PEM)
        der_bytes = signed.public_bytes(serialization.Encoding.DER)
        replace_file(config.crl.path, pem)
        if out:
            replace_file(out, der_bytes if der else pem)
        audit.record_crl(
            number,
            now,
            next_update,
            hashlib.sha256(der_bytes).hexdigest(),
            event_context(config, operator),
        )
    record = action_record(
        "crl",
        {"crl": config.crl.path, "out": out},
        number=number,
        revoked=len(entries),
        this_update=now.isoformat(),
        next_update=next_update.isoformat(),
        sha256=hashlib.sha256(der_bytes).hexdigest(),
    )
    emit_action(
        as_json,
        record,
        f"CRL {number} with {len(entries)} revoked certificate(s): {config.crl.path}",
    )


COMMANDS = (revoke, crl)
