"""`station audit export|verify-export|expiring`: shift-end exports and certificate lifecycle.

Thin: the work is in :mod:`station.audit.export`, :mod:`station.audit.verify_export` and
:mod:`station.audit.snapshot`; these commands parse options, ask for passphrases and print.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from station.audit import NewEvent
from station.audit.export import ExportRequest, export_audit
from station.audit.records import parse_timestamp, timestamp
from station.audit.snapshot import AuditSnapshot
from station.audit.verify_export import verify_export
from station.commands.loaders import (
    config_of,
    event_context,
    home_of,
    open_audit,
    open_audit_signer,
    operator_option,
)
from station.commands.options import TimeType, json_option
from station.commands.reports import action_record
from station.config import load_config
from station.errors import ConfigError, ExitCode
from station.pki.ca import load_certificate
from station.pki.signer import utc_now


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal; updated every 1000 rows."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.pending = 0

    def total(self, n: int) -> None:
        if sys.stderr.isatty() and n:
            self.bar = click.progressbar(length=n, label="Exporting", file=sys.stderr)
            self.bar.__enter__()

    def tick(self, n: int) -> None:
        self.pending += n
        if self.bar is not None and self.pending >= 1000:
            self.bar.update(self.pending)
            self.pending = 0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.pending)
            self.bar.__exit__(None, None, None)


@click.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New (or empty) folder to write the export to.",
)
@click.option("--since", type=TimeType(), help="First event time (ISO 8601; local if no zone).")
@click.option("--until", type=TimeType(), help="Events before this time (default: now).")
@click.option(
    "--shift",
    type=click.Choice(["current"]),
    help="'current': every event since the last export (or since the start).",
)
@operator_option
@json_option
@click.pass_context
def export(
    ctx: click.Context,
    out: Path,
    since: datetime | None,
    until: datetime | None,
    shift: str | None,
    operator: str | None,
    as_json: bool,
) -> None:
    """Write a signed audit export: events, certificates, revocations, AWS IoT bulk
    registration, summary, and manifest.json with its detached CMS signature."""
    if shift and (since or until):
        raise click.UsageError("--shift current cannot be combined with --since or --until")
    if since and until and since >= until:
        raise click.UsageError("--since must be before --until")
    config = config_of(ctx)
    now = utc_now()
    signer, created = open_audit_signer(config, now)
    bar = _Progress()
    with open_audit(config) as audit:
        context = event_context(config, operator)
        if created:
            cert = signer.certificate
            audit.record_event(
                NewEvent(
                    "AUDIT_SIGNER_ISSUED",
                    serial=format(cert.serial_number, "x"),
                    text=cert.subject.rfc4514_string(),
                    data={"not_after": timestamp(cert.not_valid_after_utc)},
                ),
                context,
                now,
            )
        request = ExportRequest(out, now, since, until, shift_current=shift == "current")
        try:
            result = export_audit(audit, request, signer, context, bar.tick, bar.total)
        finally:
            bar.close()
    files = {f["name"]: f["rows"] for f in result.manifest["files"]}
    written = (*files, "manifest.json", "manifest.json.p7s")
    if as_json:
        click.echo(
            json.dumps(
                {
                    **action_record("audit export", {n: result.out_dir / n for n in written}),
                    "out": str(result.out_dir),
                    "manifest_sha256": result.manifest_sha256,
                    "window": result.manifest["window"],
                    "rows": files,
                }
            )
        )
        return
    window = result.manifest["window"]
    click.echo(
        f"Exported events {window['first_seq'] or '-'}..{window['last_seq']} "
        f"({files['events.jsonl']} events, {files['certificates.csv']} certificates, "
        f"{files['revocations.csv']} revocations) to {result.out_dir}"
    )
    click.echo(f"manifest.json SHA-256 {result.manifest_sha256}; signed: manifest.json.p7s")


@click.command("verify-export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Root CA certificate (PEM) to trust; default: the station home's root.",
)
@json_option
@click.pass_context
def verify_export_command(
    ctx: click.Context, directory: Path, root: Path | None, as_json: bool
) -> None:
    """Check an export: signature and chain to the root, each file's hash, size and rows,
    and the event hash chain; exit 1 naming every file that does not match."""
    if root is None:
        try:
            root = load_config(home_of(ctx)).ca.root_cert
        except ConfigError as e:
            raise click.UsageError(f"{e}\nOr pass --root FILE (the root CA certificate).") from e
    check = verify_export(directory, load_certificate(root))
    if as_json:
        report = {"ok": check.ok, "mismatches": [str(m) for m in check.mismatches]}
        click.echo(json.dumps(report))
    elif check.ok:
        signer = check.signature.signer.subject.rfc4514_string() if check.signature else "?"
        click.echo(f"OK {directory}: signed by {signer}; every file matches the manifest")
    else:
        for mismatch in check.mismatches:
            click.echo(f"BAD {mismatch}")
    sys.exit(ExitCode.of(check.ok))


@click.command()
@click.option(
    "--within",
    type=click.IntRange(0),
    required=True,
    metavar="DAYS",
    help="List certificates on boards that expire within this many days.",
)
@json_option
@click.pass_context
def expiring(ctx: click.Context, within: int, as_json: bool) -> None:
    """Certificates on boards (delivered, verified, locked) expiring within DAYS, soonest first.
    Rotate them with `station rotate`."""
    config = config_of(ctx)
    now = utc_now()
    with AuditSnapshot(config.home.audit_db) as snap:
        for row in snap.expiring(now + timedelta(days=within)):
            days = (parse_timestamp(row["not_after"]) - now).total_seconds() / 86400
            if as_json:
                click.echo(json.dumps({**row, "days_left": round(days, 2)}))
            else:
                click.echo(
                    f"{row['serial']}  {row['board_uid']}  {row['status']:<9}  "
                    f"{row['not_after']}  {days:.1f} days"
                )


COMMANDS = (export, verify_export_command, expiring)
