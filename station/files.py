"""Durable file writes with their permissions set at creation (never chmod after the fact)."""

from __future__ import annotations

import os
from pathlib import Path

from station.errors import StationError

_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


class FileExists(StationError):
    """A file the station refuses to overwrite is already there."""


def _write_fd(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` holding ``data`` with permission ``mode``; never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, mode)
    except FileExistsError as e:
        raise FileExists(
            f"{path} already exists: the station never overwrites it; move it away first"
        ) from e
    _write_fd(fd, data)


def replace_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Atomically replace ``path`` (write a temporary file beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, mode)
    try:
        _write_fd(fd, data)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
