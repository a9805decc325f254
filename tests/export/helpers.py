"""Running `station` as a real process, and openssl, for the export tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.engine.conftest import ENV


def station(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)


def cms_verify(folder: Path, root: Path) -> subprocess.CompletedProcess[str]:
    """openssl's verdict on an export's signature, with its default S/MIME signing purpose (so
    it checks the signer's key usage and EKU, and each CA's, as `verify-export` does)."""
    return openssl(
        "cms",
        "-verify",
        "-binary",
        "-content",
        folder / "manifest.json",
        "-inform",
        "DER",
        "-in",
        folder / "manifest.json.p7s",
        "-CAfile",
        root,
        "-out",
        folder.parent / f"{folder.name}.verified",
    )
