"""Opening a POSIX tty directly gives it exactly the settings pyserial's open gives it, on real
ptys, and pyserial's words when it fails."""

from __future__ import annotations

import os
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from device_protocol.errors import Disconnected
from device_protocol.posix_port import DescriptorTransport
from device_protocol.serial_port import open_serial
from device_protocol.tty import open_tty, tty_speed

RATES = (1200, 9600, 19200, 57600, 115200, 230400, 460800, 921600, 1000000, 3000000)


@pytest.fixture
def pty_path() -> Iterator[str]:
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(slave)
    os.close(master)


def _settings(path: str) -> list[Any]:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        return termios.tcgetattr(fd)
    finally:
        os.close(fd)


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


@pytest.mark.parametrize("rate", RATES)
def test_a_tty_gets_the_settings_pyserial_gives_it(rate: int) -> None:
    seen = []
    for opener in ("pyserial", "direct"):
        master, slave = os.openpty()
        path = os.ttyname(slave)
        try:
            if opener == "pyserial":
                port = serial.Serial(path, rate, timeout=0.1, exclusive=True)
                seen.append(_settings(path))
                port.close()
            else:
                speed = tty_speed(rate)
                assert speed is not None
                fd = open_tty(path, speed)
                seen.append(_settings(path))
                os.close(fd)
        finally:
            os.close(slave)
            os.close(master)
    assert seen[0] == seen[1]


def test_a_standard_rate_on_a_device_path_opens_one_descriptor(pty_path: str) -> None:
    # pyserial's open also made two pipes (four descriptors) to cancel its own reads, which
    # the station never uses: on a 32-slot jig, 128 descriptors for nothing.
    before = _open_fds()
    line = open_serial(pty_path, baudrate=115200, write_timeout=1.0)
    try:
        assert isinstance(line, DescriptorTransport)
        assert line.url == pty_path
        assert _open_fds() == before + 1
    finally:
        line.close()
    assert _open_fds() == before


def test_a_tty_is_opened_exclusively_and_a_refusal_leaves_nothing_open(pty_path: str) -> None:
    speed = tty_speed(115200)
    assert speed is not None
    fd = open_tty(pty_path, speed)
    try:
        before = _open_fds()
        with pytest.raises(serial.SerialException, match="Could not exclusively lock port"):
            open_tty(pty_path, speed)
        with pytest.raises(Disconnected, match="no other program is using it"):
            open_serial(pty_path, baudrate=115200, write_timeout=1.0)
        assert _open_fds() == before
    finally:
        os.close(fd)


def test_a_missing_device_says_what_pyserial_says() -> None:
    path = "/nonexistent/ttyUSB9"
    with pytest.raises(serial.SerialException) as ours:
        open_tty(path, termios.B115200)
    with pytest.raises(serial.SerialException) as theirs:
        serial.Serial(path, 115200)
    assert str(ours.value) == str(theirs.value)


def test_a_file_that_is_no_tty_is_refused_and_closed(tmp_path: Path) -> None:
    plain = tmp_path / "not-a-tty"
    plain.write_bytes(b"")
    before = _open_fds()
    with pytest.raises(Disconnected, match=r"cannot open the port \(Could not configure port"):
        open_serial(str(plain), baudrate=115200, write_timeout=1.0)
    assert _open_fds() == before
