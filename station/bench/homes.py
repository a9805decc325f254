"""Throwaway station homes and station contexts for benchmarks (and the demo)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from station.audit import AuditDB
from station.config import load_config
from station.engine.compose import device_signer, station_context
from station.engine.station import DEFAULT_KEY_PREFERENCE, StationContext
from station.home import StationHome
from station.pki.keys import KeySecrets, load_ca_key


def make_home(
    path: Path,
    *,
    intermediate_key: str = "ec-p256",
    pkcs11_uri: str = "",
    env: dict[str, str] | None = None,
) -> str:
    """``station init`` into ``path`` (intermediate key on a token if ``pkcs11_uri``); returns
    the CA passphrase (kept in memory, never argv)."""
    passphrase = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        **(env or {}),
        "STATION_CA_PASSPHRASE": passphrase,
        "STATION_ROOT_PASSPHRASE": secrets.token_urlsafe(24),
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "station",
            "--home",
            str(path),
            "init",
            "--org",
            "Bench",
            "--station-id",
            "bench-1",
            "--intermediate-key",
            intermediate_key,
            *(["--pkcs11", pkcs11_uri] if pkcs11_uri else []),
        ],
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return passphrase


def open_context(
    home: Path,
    passphrase: str,
    audit: AuditDB | None = None,
    *,
    pin: str = "",
    key_preference: tuple[str, ...] = DEFAULT_KEY_PREFERENCE,
) -> StationContext:
    """A station context over a bench home; ``pin`` opens a token-held intermediate key."""
    config = load_config(StationHome(home))
    key_secrets = KeySecrets(passphrase=passphrase, pin=pin, module=config.ca.pkcs11_module)
    signer = device_signer(config, lambda: load_ca_key(config.ca.intermediate_key, key_secrets))
    return station_context(
        config,
        audit or AuditDB.open(config.home.audit_db),
        signer,
        key_preference=key_preference,
        guard_space=False,
    )
