"""The composition root: the one place a StationContext is built from station.toml."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from station.audit import AuditDB
from station.config import load_config
from station.disk import MIB, SpaceGuard
from station.engine.compose import device_signer, station_context
from station.engine.station import StationContext
from station.home import StationHome
from station.pki.keys import KeySecrets, load_ca_key
from tests.engine.conftest import CA_PASS

REPO = Path(__file__).resolve().parents[2]
ROOT_MODULE = REPO / "station" / "engine" / "compose.py"


def test_signer_and_context_share_one_profile(home: Path) -> None:
    config = load_config(StationHome(home))
    secrets = KeySecrets(passphrase=CA_PASS)
    signer = device_signer(config, lambda: load_ca_key(config.ca.intermediate_key, secrets))
    with AuditDB.open(config.home.audit_db) as audit:
        station = station_context(config, audit, signer, request_timeout=0.7, retries=4)
    assert station.profile is signer.profile
    assert "profile" not in {f.name for f in dataclasses.fields(StationContext)}
    assert signer.profile == config.device_profile()
    assert station.policy == config.csr_policy()
    assert station.station_id == config.station.id == "line-7"
    assert (station.request_timeout, station.retries) == (0.7, 4)
    assert station.revoke_superseded
    assert station.space == SpaceGuard(home, config.station.min_free_mib * MIB)
    replaced = dataclasses.replace(station, request_timeout=0.1)
    assert replaced.profile is signer.profile


def test_a_throwaway_home_has_no_space_guard(station: StationContext) -> None:
    assert station.space is None
    assert station.profile is station.signer.profile


def test_station_context_is_built_only_by_the_composition_root() -> None:
    """A cheap guard: station code builds a StationContext through station.engine.compose."""
    built = re.compile(r"\bStationContext\(")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for package in ("station", "fixtures")
        for path in sorted((REPO / package).rglob("*.py"))
        if path != ROOT_MODULE
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if built.search(line)
    ]
    assert offenders == [], "build it with station.engine.compose.station_context"
    assert built.search(ROOT_MODULE.read_text())
