"""A throwaway station with virtual boards: what `station demo` runs the app on."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from fixtures.sim import Simulator
from station.audit import AuditDB
from station.commands.loaders import open_audit_signer
from station.config import StationConfig, load_config
from station.engine.station import StationContext
from station.home import StationHome
from station.line.demo import DemoLine
from station.line.setup import LineSetup
from station.line.shift_export import AuditShiftExporter
from station.pki.ca import load_certificate
from station.pki.keys import KeySecrets, load_ca_key
from station.pki.policy import CsrPolicy
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner
from station.qa.runner import QaContext

ROOT_ENV = "STATION_ROOT_PASSPHRASE"
CA_ENV = "STATION_CA_PASSPHRASE"
DEMO_TIMEOUT = 1.0  # seconds per request: a dead board shows its FAIL quickly


def make_demo_home(root: Path) -> tuple[StationConfig, str]:
    """A new station home in ``root`` with its own CA; the config and the CA passphrase.

    The passphrases are made up here and live only in this process (its environment, which
    `station init` reads); they never appear on a command line.
    """
    from station.cli import cli  # the commands are loaded only when a home is made

    ca_pass = secrets.token_urlsafe(24)
    os.environ[ROOT_ENV] = secrets.token_urlsafe(24)
    os.environ[CA_ENV] = ca_pass
    args = ["--home", str(root), "init", "--org", "Demo Devices", "--station-id", "demo-1"]
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        cli.main(args, standalone_mode=False)
    return load_config(StationHome(root)), ca_pass


@contextlib.contextmanager
def demo_line(boards: int, *, seed: int | None = None) -> Iterator[LineSetup]:
    """A throwaway station and ``boards`` virtual boards; everything is removed on exit."""
    with tempfile.TemporaryDirectory(prefix="station-demo-") as tmp:
        config, ca_pass = make_demo_home(Path(tmp) / "home")
        profile = DeviceProfile.from_config(config)
        signer = DeviceSigner(
            load_certificate(config.ca.intermediate_cert),
            load_ca_key(config.ca.intermediate_key, KeySecrets(passphrase=ca_pass)),
            profile,
        )
        with AuditDB.open(config.home.audit_db) as audit, Simulator(Path(tmp) / "boards") as sim:
            line = DemoLine(sim, seed=seed)
            line.start(boards)
            station = StationContext(
                station_id=config.station.id,
                signer=signer,
                policy=CsrPolicy.from_config(config),
                profile=profile,
                audit=audit,
                request_timeout=DEMO_TIMEOUT,
                retries=2,
            )
            audit_signer, _ = open_audit_signer(config, datetime.now(UTC))
            yield LineSetup(
                station=station,
                slots=tuple(line.slots),
                source=line,
                feeder=line,
                title="Provisioning station (demo)",
                exporter=AuditShiftExporter(
                    audit, audit_signer, config.export.folder, config.station.id
                ),
                qa=QaContext.from_config(config, audit),
            )
