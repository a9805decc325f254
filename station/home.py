"""Paths inside a station home. Knows names, never reads or writes files itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StationHome:
    """The layout of one station's home directory.

    Private CA material lives in ``ca/`` (the intermediate) and ``offline-root/`` (the root key,
    which belongs on an offline medium, not on the line PC).
    """

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "station.toml"

    @property
    def audit_db(self) -> Path:
        return self.root / "audit.db"

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def offline_root_dir(self) -> Path:
        return self.root / "offline-root"

    @property
    def offline_root_key(self) -> Path:
        return self.offline_root_dir / "root.key.pem"

    @property
    def offline_root_cert(self) -> Path:
        return self.offline_root_dir / "root.cert.pem"

    @property
    def log_file(self) -> Path:
        """The rotating plain-text station log (station events and board console lines)."""
        return self.root / "logs" / "station.log"

    def resolve(self, configured: str) -> Path:
        """A path from station.toml: relative paths are relative to the home."""
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.root / path
