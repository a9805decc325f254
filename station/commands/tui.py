"""`station tui`: the operator's app on this station's jig."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from station.commands.loaders import (
    config_of,
    disk_full_note,
    open_audit,
    open_audit_signer,
    open_signer,
    operator_option,
    reserver_of,
)
from station.commands.options import timeout_option
from station.engine.compose import station_context
from station.errors import ConfigError
from station.factory.background import FactoryLink
from station.jig import JigPorts, load_jig_file
from station.line.setup import LineSetup
from station.line.shift_export import AuditShiftExporter
from station.logbook import Logbook
from station.qa.runner import QaContext


@click.command()
@operator_option
@click.option(
    "--jig",
    "jig_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A jig file (a [jig] table) to use instead of [jig] in station.toml.",
)
@timeout_option
@click.pass_context
def tui(ctx: click.Context, operator: str | None, jig_file: Path | None, timeout: float) -> None:
    """The operator's screen: one card per jig slot; boards start as they arrive.

    The operator signs in (a badge scan) unless --operator is given.
    """
    from station.tui.app import StationApp  # Textual is loaded only for the app itself

    config = config_of(ctx)
    jig = load_jig_file(jig_file) if jig_file is not None else config.jig
    if not jig.slots:
        raise ConfigError(
            f"{config.home.config} defines no jig slots: add [jig.slots.1] with url = PORT "
            "(or usb = VID:PID and serial_number), or pass --jig FILE; examples are in "
            "fixtures/jigs/"
        )
    # Every passphrase is asked here, before the screen takes over the terminal.
    signer = open_signer(config)
    audit_signer, _ = open_audit_signer(config, datetime.now(UTC))
    logbook = Logbook(config.home.log_file, config.station.id)
    try:
        with open_audit(config) as audit:
            station = station_context(
                config,
                audit,
                signer,
                request_timeout=timeout,
                reserver=reserver_of(config),
                max_baud=jig.max_baud,
            )
            exporter = AuditShiftExporter(
                audit, audit_signer, config.export.folder, station.station_id
            )
            setup = replace(
                LineSetup.from_jig(station, jig, JigPorts(jig)),
                exporter=exporter,
                logbook=logbook,
                qa=QaContext.from_config(config, audit),
                factory=(
                    FactoryLink(config.factory, config.station.id, config.home.audit_db)
                    if config.factory.enabled
                    else None
                ),
            )
            with logbook.errors_of("station"):
                StationApp(setup, operator=operator).run()
    finally:
        logbook.close()
    note = disk_full_note(config, logbook, ())
    if note is not None:
        click.echo(f"error: {note}", err=True)


COMMANDS = (tui,)
