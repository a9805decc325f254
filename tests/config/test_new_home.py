"""A station home made by the library (no click, no prompt, no environment): what `station init`
and the demo both call."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from station.config import load_config
from station.engine.compose import device_signer
from station.errors import ConfigError
from station.home import StationHome
from station.line.demo_station import make_demo_home
from station.new_home import HomeSecrets, HomeSpec, create_station_home, plan_home
from station.pki.ca import load_certificate
from station.pki.errors import WrongPassphrase
from station.pki.keys import KeySecrets, KeySpec, load_ca_key, load_private_key

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRETS = HomeSecrets(
    intermediate=KeySecrets(passphrase="intermediate-secret"), root_passphrase="root-secret!"
)
PASSPHRASE_ENV = ("STATION_CA_PASSPHRASE", "STATION_ROOT_PASSPHRASE", "STATION_AUDIT_PASSPHRASE")


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No passphrase in the environment: nothing the library could fall back on."""
    for name in PASSPHRASE_ENV:
        monkeypatch.delenv(name, raising=False)


def test_a_home_from_explicit_secrets(tmp_path: Path, bare_env: None) -> None:
    home = StationHome(tmp_path / "home")
    spec = HomeSpec(org="Acme Library", station_id="lib-1", root_key=KeySpec.parse("ec-p256"))
    env = dict(os.environ)
    config = create_station_home(home, spec, SECRETS, NOW)
    assert dict(os.environ) == env, "the environment is untouched"

    assert config == load_config(home), "station.toml says what the function returned"
    assert config.station.id == "lib-1"
    assert config.station.org == "Acme Library"
    for path, mode in [
        (home.offline_root_key, 0o600),
        (config.ca.intermediate_key, 0o600),
        (config.ca.intermediate_cert, 0o644),
        (config.ca.root_cert, 0o644),
        (home.config, 0o644),
    ]:
        assert isinstance(path, Path)
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == mode & 0o077, path
    # Each key opens with its own secret and with nothing else.
    load_private_key(home.offline_root_key, "root-secret!")
    assert isinstance(config.ca.intermediate_key, Path)
    with pytest.raises(WrongPassphrase):
        load_private_key(config.ca.intermediate_key, "root-secret!")
    # The intermediate is signed by the root and is what the station signs with.
    intermediate = load_certificate(config.ca.intermediate_cert)
    root = load_certificate(home.offline_root_cert)
    assert intermediate.issuer == root.subject
    assert load_certificate(config.ca.root_cert) == root
    signer = device_signer(
        config, lambda: load_ca_key(config.ca.intermediate_key, SECRETS.intermediate)
    )
    assert signer.issuer_cert == intermediate
    events = sqlite3.connect(home.audit_db).execute("SELECT kind, station_id, at FROM events")
    assert events.fetchall() == [("STATION_INIT", "lib-1", "2026-03-01T12:00:00.000000Z")]


def test_an_external_root_leaves_a_csr_and_no_root(tmp_path: Path, bare_env: None) -> None:
    home = StationHome(tmp_path / "home")
    spec = HomeSpec(org="Acme", station_id="ext-1", external_root=True)
    secrets = HomeSecrets(intermediate=KeySecrets(passphrase="intermediate-secret"))
    env = dict(os.environ)
    config = create_station_home(home, spec, secrets, NOW)
    assert dict(os.environ) == env
    assert (home.ca_dir / "intermediate.csr.pem").read_text().startswith("-----BEGIN CERTIFICATE")
    assert not home.offline_root_dir.exists()
    assert not config.ca.intermediate_cert.exists()
    assert load_config(home) == config


def test_a_home_in_use_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    home = StationHome(tmp_path / "home")
    create_station_home(home, HomeSpec(org="Acme", station_id="one"), SECRETS, NOW)
    before = sorted(p.relative_to(home.root) for p in home.root.rglob("*"))
    with pytest.raises(ConfigError, match="already a station home"):
        plan_home(home, HomeSpec(org="Acme", station_id="two"))
    assert sorted(p.relative_to(home.root) for p in home.root.rglob("*")) == before


def test_the_demo_home_needs_no_environment(tmp_path: Path, bare_env: None) -> None:
    env = dict(os.environ)
    config, ca_pass = make_demo_home(tmp_path / "home")
    assert dict(os.environ) == env, "no passphrase written into the environment"
    key = load_ca_key(config.ca.intermediate_key, KeySecrets(passphrase=ca_pass))
    assert device_signer(config, lambda: key).issuer_cert == load_certificate(
        config.ca.intermediate_cert
    )
