"""A board or port fault (a LinkError) reaches `station`'s edge like any station error: one line
on stderr naming the port, exit 1, whatever the command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from device_protocol import DeviceError, Disconnected, ProtocolError
from fixtures.board import BoardServer, Faults
from station.cli import link_error_line
from station.errors import ConfigError, ExitCode, StationError
from tests.engine.conftest import ENV, home, template_home  # noqa: F401 - fixtures

MakeBoard = Callable[..., BoardServer]
MISSING = "/dev/does-not-exist"
#: Each command that talks to one board: its arguments before --port, and whether it needs a home.
BOARD_COMMANDS = {
    "probe": ("probe",),
    "qa verify": ("qa", "verify"),
    "rotate": ("rotate", "--operator", "op-1"),
    "conformance": ("conformance",),
}


def station(station_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(station_home), *args],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_line_exit_1(done: subprocess.CompletedProcess[str], port: str) -> str:
    assert done.returncode == ExitCode.FAILED == 1, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {port}: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("command", BOARD_COMMANDS)
def test_a_port_that_does_not_exist(home: Path, command: str) -> None:  # noqa: F811
    done = station(home, *BOARD_COMMANDS[command], "--port", MISSING)
    assert "cannot open the port" in assert_one_line_exit_1(done, MISSING)


@pytest.mark.parametrize("command", ["probe", "rotate"])  # conformance reports it per case
def test_a_board_that_vanishes(
    home: Path,  # noqa: F811
    make_board: MakeBoard,
    command: str,
) -> None:
    board = make_board(Faults(disconnect="HELLO"))
    done = station(home, *BOARD_COMMANDS[command], "--port", board.url, "--timeout", "0.5")
    assert_one_line_exit_1(done, board.url)


def test_a_board_unplugged_before_the_command(home: Path, make_board: MakeBoard) -> None:  # noqa: F811
    board = make_board()
    url = board.url
    board.stop()
    done = station(home, "qa", "verify", "--port", url)
    assert "cannot open the port" in assert_one_line_exit_1(done, url)


def test_what_a_board_says_is_one_line_with_what_to_do() -> None:
    refused = DeviceError("/dev/pts/9", request="HELLO", status=9, name="INTERNAL", text="a\nb")
    line = link_error_line(refused)
    assert "\n" not in line
    assert line.startswith("/dev/pts/9: HELLO refused by the board: INTERNAL (9) a\\nb; retry")
    assert line.endswith("check the board's firmware version")
    assert "firmware" in link_error_line(ProtocolError("COM3", "bad answer to HELLO"))
    gone = Disconnected("COM3", "the board disconnected (EIO); reseat the board and retry")
    assert link_error_line(gone) == str(gone)


def test_the_exit_codes_are_design_section_6() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 130]
    assert ExitCode.of(True) is ExitCode.OK
    assert ExitCode.of(False) is ExitCode.FAILED
    assert StationError.exit_code is ExitCode.FAILED
    assert ConfigError.exit_code is ExitCode.USAGE
