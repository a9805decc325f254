"""What every command gets from the global options (apart from cli.py, which registers the
commands: so a library module can name it without importing every command)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliContext:
    """What every command gets from the global options."""

    home: Path
