"""A board agent running as a process (the POSIX build or QEMU): its pty and its storage."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Agent:
    """A running agent: its process, the pty it serves and its storage folder."""

    process: subprocess.Popen[str]
    url: str
    state: Path

    def stop(self) -> int:
        """SIGTERM, then its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=10)
