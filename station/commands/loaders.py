"""What commands open from a station home: config, audit database, the device signer."""

from __future__ import annotations

import click

from station.audit import AuditDB, EventContext
from station.cli import CliContext
from station.commands.passphrases import ca_passphrase
from station.config import StationConfig, load_config
from station.engine.station import StationContext
from station.home import StationHome
from station.pki.policy import CsrPolicy
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner

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


def event_context(config: StationConfig, operator: str | None = None) -> EventContext:
    """Audit context for a command run at the station itself (no slot, no port)."""
    return EventContext(station_id=config.station.id, operator=operator)


def open_signer(config: StationConfig) -> DeviceSigner:
    """The device signer over the configured intermediate (asks for its passphrase)."""
    return DeviceSigner.from_files(
        config.ca.intermediate_cert,
        config.ca.intermediate_key,
        ca_passphrase(),
        DeviceProfile.from_config(config),
    )


def station_context(
    config: StationConfig, audit: AuditDB, signer: DeviceSigner, *, timeout: float = 2.0
) -> StationContext:
    """What the engine needs from this station, for cycles on its slots."""
    return StationContext(
        station_id=config.station.id,
        signer=signer,
        policy=CsrPolicy.from_config(config),
        profile=DeviceProfile.from_config(config),
        audit=audit,
        request_timeout=timeout,
    )
