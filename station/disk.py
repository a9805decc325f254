"""The station's disk: enough free space before a cycle starts, and a full disk said in words.

A full disk shows up as ``OSError(ENOSPC)`` from a file write, or as SQLite's "database or disk
is full" (or an I/O error when SQLite cannot grow its shared-memory index). Every place that
writes to the station home turns those into :class:`DiskFull`, which names the home to clean up.
The space check itself is pure (:func:`low_space_reason`); :class:`SpaceGuard` reads the disk.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from station.errors import StationError

MIB = 1024 * 1024
#: Below this many free bytes an SQLite I/O error is taken for a full disk.
_NEARLY_FULL = 64 * 1024


class DiskSpaceError(StationError):
    """The station's disk is full, or below the configured free-space minimum."""

    code = "station.disk"

    def __init__(self, message: str, home: Path) -> None:
        super().__init__(message)
        self.home = home


class DiskFull(DiskSpaceError):
    """A write to the station home failed because its disk is full."""

    code = "station.disk-full"

    def __init__(self, home: Path) -> None:
        super().__init__(f"the station's disk is full: free space in {home}", home)


class LowDiskSpace(DiskSpaceError):
    """Less free space than ``[station] min_free_mib``: no new cycle starts."""

    code = "station.low-disk-space"


def low_space_reason(free: int, minimum: int, home: Path) -> str | None:
    """Why a cycle must not start with ``free`` bytes left (``minimum`` required), or None."""
    if free >= minimum:
        return None
    return (
        f"the station's disk has {free / MIB:.1f} MiB free, less than the {minimum / MIB:.0f} "
        f"MiB [station] min_free_mib asks for: free space in {home}, then retry"
    )


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def is_disk_full(error: BaseException, where: Path) -> bool:
    """True when ``error``, raised while writing under ``where``, means the disk is full."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    if isinstance(error, sqlite3.Error):
        primary = getattr(error, "sqlite_errorcode", 0) & 0xFF
        if primary == sqlite3.SQLITE_FULL:
            return True
        if primary == sqlite3.SQLITE_IOERR:
            free = _free_bytes(where)
            return free is not None and free < _NEARLY_FULL
    return False


@contextmanager
def full_disk_said(home: Path) -> Iterator[None]:
    """Turn a full-disk error raised inside into :class:`DiskFull` naming ``home``."""
    try:
        yield
    except (OSError, sqlite3.Error) as e:
        if is_disk_full(e, home):
            raise DiskFull(home) from e
        raise


@dataclass(frozen=True)
class SpaceGuard:
    """Refuses to start a cycle below ``min_free_bytes`` free on the disk holding ``home``."""

    home: Path
    min_free_bytes: int

    def check(self) -> None:
        """Raise :class:`LowDiskSpace` when the disk has too little free space."""
        if self.min_free_bytes <= 0:
            return
        reason = low_space_reason(shutil.disk_usage(self.home).free, self.min_free_bytes, self.home)
        if reason is not None:
            raise LowDiskSpace(reason, self.home)
