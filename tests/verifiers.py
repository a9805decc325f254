"""Independent verifiers used by several test layers: openssl and pkilint on a device chain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from station.config import load_config
from station.home import StationHome

_END = b"-----END CERTIFICATE-----\n"
_BIN = Path(sys.executable).parent


def leaf_file(chain: bytes, folder: Path) -> Path:
    """The device certificate (the first of the chain) as a PEM file in ``folder``."""
    leaf = folder / "leaf.pem"
    leaf.write_bytes(chain[: chain.index(_END) + len(_END)])
    return leaf


def openssl_verify(home: Path, chain: bytes, folder: Path) -> subprocess.CompletedProcess[str]:
    """`openssl verify -x509_strict -purpose sslclient` of the chain's leaf against the home's
    root and intermediate."""
    config = load_config(StationHome(home))
    return subprocess.run(
        ["openssl", "verify", "-x509_strict", "-purpose", "sslclient",
         "-CAfile", str(config.ca.root_cert), "-untrusted", str(config.ca.intermediate_cert),
         str(leaf_file(chain, folder))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def pkilint(leaf: Path) -> subprocess.CompletedProcess[str]:
    """`lint_pkix_cert lint -s WARNING` (no output means no findings)."""
    return subprocess.run(
        [str(_BIN / "lint_pkix_cert"), "lint", "-s", "WARNING", str(leaf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
