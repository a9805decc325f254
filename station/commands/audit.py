"""`station audit verify|list|show`: the audit database for people and scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from station.audit.checkpoint import load_checkpoint, newest_checkpoint, verify_from_checkpoint
from station.audit.history import board_history
from station.audit.verify_file import verify_file
from station.commands import audit_export
from station.commands.loaders import config_of, open_audit, open_audit_readonly
from station.commands.options import json_option
from station.config import StationConfig
from station.errors import ExitCode
from station.phrasing import quoted
from station.pki.ca import load_certificate


@click.group()
def audit() -> None:
    """Inspect and verify the station's audit database."""


@audit.command()
@click.option(
    "--from-checkpoint",
    "checkpoint",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[EXPORT]",
    help="Verify only the events after the last signed checkpoint: the chain head an "
    "export's signed manifest states (default: the newest export of this home; or give an "
    "export folder). Its signature and signer chain are checked first, then that its event "
    "still hashes to the signed hash, then the chain after it and the certificates those "
    "events name. A change to an event before the checkpoint is not what this looks for: a "
    "full verify (without this option) finds it.",
)
@json_option
@click.pass_context
def verify(ctx: click.Context, checkpoint: str | None, as_json: bool) -> None:
    """Walk the event hash chain and the certificate records; exit 1 naming the first bad row."""
    config = config_of(ctx)
    if checkpoint is not None:
        _verify_from_checkpoint(config, checkpoint, as_json)
        return
    with open_audit_readonly(config) as db:
        state, found = verify_file(db.path)
    report = {"events": state.count, "head_seq": state.head_seq, "head_hash": state.head_hash}
    _verdict(
        found,
        report,
        f"OK {state.count} events, chain intact, certificate records consistent",
        as_json,
    )


def _verify_from_checkpoint(config: StationConfig, folder: str, as_json: bool) -> None:
    db_path = config.home.audit_db
    root = load_certificate(config.ca.root_cert)
    if folder:
        cp = load_checkpoint(Path(folder), root, config.station.id)
    else:
        cp = newest_checkpoint(db_path, root, config.station.id)
    result = verify_from_checkpoint(db_path, cp)
    state, found = result.state, result.findings
    report = {
        "checkpoint": cp.as_dict(),
        "events": state.count,
        "head_seq": state.head_seq or cp.seq,
        "head_hash": state.head_hash if state.count else cp.hash,
    }
    ok = (
        f"OK from checkpoint event {cp.seq} ({cp.folder}, signed by {cp.signer}): "
        f"{state.count} events after it, chain intact, their certificate records consistent"
    )
    _verdict(found, report, ok, as_json)


def _verdict(found: Sequence[object], report: dict[str, Any], ok: str, as_json: bool) -> None:
    """A verify's outcome: JSON (``ok`` first, then ``report``, then the findings), or one BAD
    line per finding, or the ``ok`` line; exit 1 when anything was found."""
    if as_json:
        findings = [str(f) for f in found]
        click.echo(json.dumps({"ok": not found, **report, "findings": findings}))
    elif found:
        for finding in found:
            click.echo(f"BAD {finding}")
    else:
        click.echo(ok)
    sys.exit(ExitCode.of(not found))


@audit.command("list")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=50,
    show_default=True,
    help="Newest certificates to show.",
)
@json_option
@click.pass_context
def list_(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The newest certificates with their board and status."""
    with open_audit(config_of(ctx)) as db:
        rows = db.all_certificates(limit=limit)
    for row in rows:
        if as_json:
            click.echo(json.dumps({k: v for k, v in row.as_dict().items() if k != "pem"}))
        else:
            click.echo(f"{row.serial}  {row.board_uid}  {row.status:<10}  {row.not_after}")


@audit.command()
@click.argument("ident")
@json_option
@click.pass_context
def show(ctx: click.Context, ident: str, as_json: bool) -> None:
    """One board (by id) or certificate (by serial): its certificates and events."""
    with open_audit(config_of(ctx)) as db:
        history = board_history(db, ident)
    if history.empty:
        raise click.ClickException(
            f"nothing recorded for {quoted(ident)}: give a board id or a certificate serial (hex)"
        )
    if as_json:
        click.echo(json.dumps(history.as_dict()))
        return
    click.echo(f"board {history.board}")
    for c in history.certificates:
        link = f" -> {c.superseded_by}" if c.superseded_by else ""
        click.echo(f"  certificate {c.serial} {c.status}{link}")
    for e in history.events:
        reason = f" {e['code']}: {e['text']}" if e["code"] else ""
        click.echo(f"  {e['seq']:>6} {e['at']} {e['kind']}{reason}")


for _command in audit_export.COMMANDS:  # export, verify-export, expiring
    audit.add_command(_command)

COMMANDS = (audit,)
