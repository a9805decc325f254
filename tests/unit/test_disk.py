"""The free-space rule and the words for a full disk: pure, table-driven."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from station.disk import MIB, DiskFull, is_disk_full, low_space_reason
from station.engine.events import FailureKind, Step
from station.engine.failures import classify

HOME = Path("/srv/st1")


@pytest.mark.parametrize(
    ("free", "minimum", "reason"),
    [
        pytest.param(200 * MIB, 200 * MIB, None, id="ok/exactly-the-minimum"),
        pytest.param(5 * MIB, 0, None, id="ok/no-minimum"),
        pytest.param(
            int(3.25 * MIB),
            200 * MIB,
            "the station's disk has 3.2 MiB free, less than the 200 MiB [station] min_free_mib "
            "asks for: free space in /srv/st1, then retry",
            id="fail/below",
        ),
    ],
)
def test_low_space_reason(free: int, minimum: int, reason: str | None) -> None:
    assert low_space_reason(free, minimum, HOME) == reason


def _sqlite_error(code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "full"),
    [
        pytest.param(OSError(errno.ENOSPC, "No space left on device"), True, id="enospc"),
        pytest.param(OSError(errno.EACCES, "Permission denied"), False, id="eacces"),
        pytest.param(_sqlite_error(sqlite3.SQLITE_FULL), True, id="sqlite-full"),
        pytest.param(_sqlite_error(sqlite3.SQLITE_CONSTRAINT), False, id="sqlite-constraint"),
        pytest.param(ValueError("no"), False, id="other"),
    ],
)
def test_is_disk_full(error: BaseException, full: bool, tmp_path: Path) -> None:
    assert is_disk_full(error, tmp_path) is full


def test_sqlite_io_error_is_full_only_when_the_disk_is(tmp_path: Path) -> None:
    """A plenty-of-space disk: an I/O error stays an I/O error."""
    assert not is_disk_full(_sqlite_error(sqlite3.SQLITE_IOERR | (19 << 8)), tmp_path)


def test_a_cycle_stopped_by_a_full_disk_says_what_to_do() -> None:
    failure = classify(DiskFull(HOME), Step.ISSUE, "3")
    assert failure.kind is FailureKind.STATION
    assert failure.code == "station.disk-full"
    assert failure.message.startswith(
        "Slot 3 stopped at ISSUE: the station's disk is full: free space in /srv/st1"
    )
    assert "Unexpected" not in failure.message
