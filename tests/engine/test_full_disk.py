"""A station whose disk is full, or nearly: a real small filesystem (tmpfs, mounted by the test;
this machine and CI run as root) holding the station home, real boards, `station` as a real
process. The operator reads what to do; every board's result line still prints; the audit
database still verifies, read-only; no cycle starts below [station] min_free_mib."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from fixtures.board import BoardServer
from station.audit import AuditDB
from station.config_edit import with_table_keys
from tests.engine.conftest import ENV

MakeBoard = Callable[..., BoardServer]
FS_BYTES = 8 * 1024 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of its own. Needs root, as this machine and CI run; it fails, never skips,
    where it cannot mount."""
    mount = tmp_path / "fs"
    mount.mkdir()
    assert os.geteuid() == 0, "these tests mount a small tmpfs: run them as root (CI does)"
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FS_BYTES},mode=0755", "tmpfs", str(mount)],
        check=True,
        capture_output=True,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True, capture_output=True)


@pytest.fixture
def fs_home(small_fs: Path, home: Path) -> Path:
    """A fresh station home on the small filesystem."""
    target = small_fs / "home"
    shutil.copytree(home, target)
    return target


def set_min_free(home: Path, mib: int) -> None:
    toml = home / "station.toml"
    toml.write_text(
        with_table_keys(toml.read_text(), "station", {"min_free_mib": mib}, toml)  # type: ignore[dict-item]
    )


def fill(directory: Path) -> Path:
    """Write a file in ``directory`` until its filesystem has not one byte left."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 4096, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bavail == 0
    return filler


def station(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), *args],
        env={**ENV, "STATION_OPERATOR": "op-9"},
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_full_disk_prints_every_result_and_says_what_to_do(
    make_board: MakeBoard, fs_home: Path
) -> None:
    set_min_free(fs_home, 0)  # let the cycles start on a full disk, as before the minimum
    boards = [make_board(), make_board()]
    ports = [arg for board in boards for arg in ("--port", board.url)]
    # A reader keeps the database open (as the TUI does): its WAL index stays, so the station
    # can open the database and the disk fills up under a cycle, at the ISSUED commit.
    with closing(sqlite3.connect(fs_home / "audit.db")) as reader:
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone()[0] > 0
        filler = fill(fs_home)
        result = station(fs_home, "provision", *ports)
    full = f"the station's disk is full: free space in {fs_home}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [["FAIL", "slot", "1"], ["FAIL", "slot", "2"]]
    for line, board in zip(lines, boards, strict=True):
        assert board.identity.uid in line
        assert full in line
        assert "Unexpected" not in line
    assert result.stderr.strip().splitlines()[-1] == f"error: {full}"

    verify = station(fs_home, "audit", "verify", "--json")  # read-only, the disk still full
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["ok"] is True

    filler.unlink()  # the operator frees space; the same boards go back on the jig
    again = station(fs_home, "provision", *ports)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines()] == ["PASS", "PASS"]
    assert station(fs_home, "audit", "verify").returncode == 0


def test_audit_verify_reads_a_closed_database_on_a_full_disk(
    make_board: MakeBoard, fs_home: Path
) -> None:
    """No WAL index left to reuse: the read-only open must not need to write one."""
    set_min_free(fs_home, 1)
    assert station(fs_home, "provision", "--port", make_board().url).returncode == 0
    assert not (fs_home / "audit.db-wal").exists()
    fill(fs_home)
    with pytest.raises(sqlite3.OperationalError):  # what every reader did before
        sqlite3.connect(f"file:{fs_home / 'audit.db'}?mode=ro", uri=True).execute(
            "SELECT COUNT(*) FROM events"
        ).fetchone()
    verify = station(fs_home, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert re.fullmatch(
        r"OK \d+ events, chain intact, certificate records consistent\n", verify.stdout
    )
    with AuditDB.open_readonly(fs_home / "audit.db") as audit:
        assert len(audit.all_certificates()) == 1


def test_no_cycle_starts_below_the_free_space_minimum(make_board: MakeBoard, fs_home: Path) -> None:
    """The minimum is checked against the filesystem's real free space (statvfs)."""
    free_mib = shutil.disk_usage(fs_home).free / (1024 * 1024)
    assert 7 < free_mib < 8
    set_min_free(fs_home, 9)
    board = make_board()
    result = station(fs_home, "provision", "--json", "--port", board.url)
    assert result.returncode == 1, result.stdout + result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["failure"]["code"] == "station.low-disk-space"
    message = record["failure"]["message"]
    assert f"less than the 9 MiB [station] min_free_mib asks for: free space in {fs_home}" in (
        message
    )
    assert re.search(r"the station's disk has 7\.\d MiB free", message), message
    assert board.device.element.key_type is None  # the board was never asked for anything
    with closing(sqlite3.connect(fs_home / "audit.db")) as db:
        kinds = db.execute("SELECT kind, code FROM events").fetchall()
    assert ("FAILED", "station.low-disk-space") in kinds
    assert all(kind != "STARTED" for kind, _ in kinds)

    set_min_free(fs_home, 1)
    ok = station(fs_home, "provision", "--port", board.url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
