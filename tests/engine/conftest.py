"""A real station home (made by `station init`) and a StationContext over it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.audit import AuditDB
from station.config import load_config
from station.engine.station import StationContext
from station.home import StationHome
from station.pki.policy import CsrPolicy
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner

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
    signer = DeviceSigner.from_files(
        config.ca.intermediate_cert,
        config.ca.intermediate_key,
        CA_PASS,
        DeviceProfile.from_config(config),
    )
    with AuditDB.open(config.home.audit_db) as audit:
        yield StationContext(
            station_id=config.station.id,
            signer=signer,
            policy=CsrPolicy.from_config(config),
            profile=DeviceProfile.from_config(config),
            audit=audit,
            request_timeout=0.5,
            retries=2,
        )
