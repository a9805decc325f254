"""What commands open from a station home: config, audit database, the device signer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import click

from station.audit import AuditDB, EventContext
from station.commands.passphrases import audit_passphrase, ca_key_secrets
from station.config import StationConfig, load_config
from station.context import CliContext
from station.disk import DiskFull, is_disk_full
from station.engine.compose import device_signer
from station.home import StationHome
from station.logbook import Logbook
from station.pki.audit_signer import AuditSigner, load_or_create
from station.pki.keys import CaPrivateKey, load_ca_key
from station.pki.signer import DeviceSigner

if TYPE_CHECKING:  # psycopg, 0.1-0.2 s to load, only for a station with a factory store
    from station.factory.reserver import StoreReserver

OPERATOR_ENV = "STATION_OPERATOR"

operator_option = click.option(
    "--operator",
    envvar=OPERATOR_ENV,
    default=None,
    help=f"Who is doing this, for the audit record (env {OPERATOR_ENV}).",
)


def home_of(ctx: click.Context) -> StationHome:
    """The station home given by ``--home`` / ``STATION_HOME``."""
    obj = ctx.find_object(CliContext)
    if obj is None:  # only when a command is invoked outside the `station` group
        raise click.UsageError("no station home: run this command through `station`")
    return StationHome(obj.home)


def config_of(ctx: click.Context) -> StationConfig:
    """station.toml of the home, loaded once per command."""
    return load_config(home_of(ctx))


def open_audit(config: StationConfig) -> AuditDB:
    """The station's audit database."""
    return AuditDB.open(config.home.audit_db)


def open_audit_readonly(config: StationConfig) -> AuditDB:
    """The station's audit database, to read only (works on a full disk)."""
    return AuditDB.open_readonly(config.home.audit_db)


def event_context(config: StationConfig, operator: str | None = None) -> EventContext:
    """Audit context for a command run at the station itself (no slot, no port)."""
    return EventContext(station_id=config.station.id, operator=operator)


def open_ca_key(config: StationConfig) -> CaPrivateKey:
    """The station intermediate's key, from its file or its token (asks for the passphrase or
    PIN). Every command that signs with the intermediate opens it here."""
    ca = config.ca
    return load_ca_key(ca.intermediate_key, ca_key_secrets(ca.intermediate_key, ca.pkcs11_module))


def open_signer(config: StationConfig) -> DeviceSigner:
    """The device signer over the configured intermediate (asks for the key's secrets)."""
    return device_signer(config, lambda: open_ca_key(config))


def open_audit_signer(config: StationConfig, now: datetime) -> tuple[AuditSigner, bool]:
    """The audit-signing certificate and key; issued by the intermediate on first use."""
    files = config.audit_signer_files()
    return load_or_create(files, audit_passphrase(), lambda: open_ca_key(config), now)


def disk_full_note(config: StationConfig, logbook: Logbook, failures: Iterable[str]) -> str | None:
    """The line to print after a run when the station's disk filled up: a cycle stopped on it
    (``failures`` are the runs' failure codes) or the station log could not be written."""
    log_full = logbook.error is not None and is_disk_full(logbook.error, config.home.root)
    if log_full or DiskFull.code in failures:
        return str(DiskFull(config.home.root))
    return None


def reserver_of(config: StationConfig) -> StoreReserver | None:
    """The factory store's key reservation before signing, when [factory] sets a store."""
    if not config.factory.enabled:
        return None
    from station.factory.reserver import StoreReserver

    return StoreReserver(config.factory, config.station.id)
