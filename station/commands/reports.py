"""What commands print for scripts (``--json``): one shape per kind of output (README, "JSON
output"). An *action* (a command that creates, signs, revokes or writes something) prints one
object: ``command`` (as typed), ``files`` (each file written: a name and its path) and the
action's own facts; a certificate it made or installed is a :func:`certificate_record`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from station.pki.keys import describe_public_key
from station.pki.serials import serial_hex


def certificate_record(cert: x509.Certificate) -> dict[str, Any]:
    """A certificate as every ``--json`` output names one."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": serial_hex(cert.serial_number),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "key": describe_public_key(cert.public_key()),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def action_record(
    command: str, files: Mapping[str, Path | None] | None = None, **facts: Any
) -> dict[str, Any]:
    """An action's outcome: ``command``, the ``files`` it wrote (None entries left out), and
    ``facts``."""
    written = {name: str(path) for name, path in (files or {}).items() if path is not None}
    return {"command": command, "files": written, **facts}


def emit_action(as_json: bool, record: Mapping[str, Any], *lines: str) -> None:
    """Print ``record`` as one JSON object, or else ``lines`` for people."""
    if as_json:
        click.echo(json.dumps(record))
        return
    for line in lines:
        click.echo(line)
