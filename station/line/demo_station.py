"""A throwaway station with virtual boards: what `station demo` runs the app on."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from fixtures.sim import Simulator
from station.audit import AuditDB
from station.config import StationConfig
from station.engine.compose import device_signer, station_context
from station.home import StationHome
from station.line.demo import DemoLine
from station.line.setup import LineSetup
from station.line.shift_export import AuditShiftExporter
from station.new_home import HomeSecrets, HomeSpec, create_station_home
from station.pki.audit_signer import load_or_create
from station.pki.keys import CaPrivateKey, KeySecrets, load_ca_key
from station.qa.runner import QaContext

DEMO_TIMEOUT = 1.0  # seconds per request: a dead board shows its FAIL quickly
DEMO_SPEC = HomeSpec(org="Demo Devices", station_id="demo-1")


def make_demo_home(root: Path) -> tuple[StationConfig, str]:
    """A new station home in ``root`` with its own CA; the config and the CA passphrase.

    The passphrases are made up here and passed on as values: they never appear on a command
    line nor in the environment, and the root's is forgotten at once.
    """
    ca_pass = secrets.token_urlsafe(24)
    home_secrets = HomeSecrets(
        intermediate=KeySecrets(passphrase=ca_pass),
        root_passphrase=secrets.token_urlsafe(24),
    )
    config = create_station_home(StationHome(root), DEMO_SPEC, home_secrets, datetime.now(UTC))
    return config, ca_pass


@contextlib.contextmanager
def demo_line(boards: int, *, seed: int | None = None) -> Iterator[LineSetup]:
    """A throwaway station and ``boards`` virtual boards; everything is removed on exit."""
    with tempfile.TemporaryDirectory(prefix="station-demo-") as tmp:
        config, ca_pass = make_demo_home(Path(tmp) / "home")

        def open_key() -> CaPrivateKey:
            return load_ca_key(config.ca.intermediate_key, KeySecrets(passphrase=ca_pass))

        signer = device_signer(config, open_key)
        with AuditDB.open(config.home.audit_db) as audit, Simulator(Path(tmp) / "boards") as sim:
            line = DemoLine(sim, seed=seed)
            line.start(boards)
            station = station_context(
                config, audit, signer, request_timeout=DEMO_TIMEOUT, retries=2, guard_space=False
            )
            # The audit-signing key shares the CA key's passphrase, as `station` does by default.
            audit_signer, _ = load_or_create(
                config.audit_signer_files(), ca_pass, open_key, datetime.now(UTC)
            )
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
