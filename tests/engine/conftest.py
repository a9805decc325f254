"""A real station home (made by `station init`) and a StationContext over it."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.audit import AuditDB
from station.config import load_config
from station.engine.compose import device_signer, station_context
from station.engine.station import StationContext
from station.home import StationHome
from station.pki.keys import KeySecrets, load_ca_key

CA_PASS = "engine-test-ca-pass"
ENV = {
    **os.environ,
    "STATION_CA_PASSPHRASE": CA_PASS,
    "STATION_ROOT_PASSPHRASE": "engine-test-root-pass",
}


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template") / "home"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "station",
            "--home",
            str(home),
            "init",
            "--org",
            "Acme Test",
            "--station-id",
            "line-7",
        ],
        env=ENV,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return home


@pytest.fixture
def home(template_home: Path, tmp_path: Path) -> Path:
    """A fresh copy of the station home, with an empty audit database."""
    target = tmp_path / "home"
    shutil.copytree(template_home, target)
    return target


@pytest.fixture
def station(home: Path) -> Iterator[StationContext]:
    config = load_config(StationHome(home))
    secrets = KeySecrets(passphrase=CA_PASS)
    signer = device_signer(config, lambda: load_ca_key(config.ca.intermediate_key, secrets))
    with AuditDB.open(config.home.audit_db) as audit:
        yield station_context(
            config, audit, signer, request_timeout=0.5, retries=2, guard_space=False
        )


@pytest.fixture
def trace(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog, with the wire trace (device_protocol.trace at DEBUG) captured."""
    caplog.set_level(logging.DEBUG, logger="device_protocol.trace")
    return caplog
