"""Throwaway SoftHSM2 tokens for tests, the bench and trials: a private config file and token
directory, so nothing touches the machine's own tokens (/var/lib/softhsm).

SoftHSM2 reads ``SOFTHSM2_CONF`` when the module is initialised, i.e. once per process: set it
(see :meth:`SoftHsm.env`) before anything in the process loads the module.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from station.pki.errors import TokenModuleError

#: Where Debian (and most distributions) install the SoftHSM2 PKCS#11 module.
MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
)


def find_module() -> str:
    """The SoftHSM2 module, or a :class:`TokenModuleError` saying how to install it."""
    for candidate in MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise TokenModuleError("SoftHSM2 is not installed: run `apt-get install -y softhsm2`")


@dataclass(frozen=True)
class SoftHsm:
    """A SoftHSM2 configuration with its own token directory."""

    conf: Path
    module: str
    pins: dict[str, str] = field(default_factory=dict, repr=False)  # token label -> user PIN

    def env(self) -> dict[str, str]:
        """Environment for a process that should see these tokens (PINs not included)."""
        return {"SOFTHSM2_CONF": str(self.conf), "STATION_PKCS11_MODULE": self.module}

    def init_token(self, label: str, pin: str, so_pin: str) -> None:
        """Initialise a new token in the first free slot."""
        util = shutil.which("softhsm2-util")
        if util is None:
            raise TokenModuleError("softhsm2-util not found: run `apt-get install -y softhsm2`")
        subprocess.run(
            [util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin],
            env={"SOFTHSM2_CONF": str(self.conf), "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        self.pins[label] = pin


def make_softhsm(directory: Path) -> SoftHsm:
    """A fresh SoftHSM2 configuration under ``directory`` (no tokens yet)."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, mode=0o700)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
        "slots.removable = false\n",
        encoding="utf-8",
    )
    return SoftHsm(conf, find_module())
