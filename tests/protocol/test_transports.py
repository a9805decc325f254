"""The transports under the Link, in process: a POSIX descriptor (one end of a socket pair) and
pyserial's ``loop://``. Pure: no ptys, no processes."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from device_protocol.errors import Disconnected
from device_protocol.posix_port import DescriptorTransport
from device_protocol.serial_port import SerialTransport, _empty_input, open_serial
from device_protocol.transport import POLL, Transport


@pytest.fixture
def pair() -> Iterator[tuple[DescriptorTransport, socket.socket]]:
    station, board = socket.socketpair()
    station.setblocking(False)
    line = DescriptorTransport(
        station.fileno(), url="fd://test", write_timeout=1.0, release=station.close
    )
    yield line, board
    line.close()
    board.close()


def test_a_descriptor_moves_bytes_both_ways(
    pair: tuple[DescriptorTransport, socket.socket],
) -> None:
    line, board = pair
    assert line.read() == b""  # nothing arrived within one poll
    line.write(b"~P1 1 HELLO v=1*00000000\n")
    assert board.recv(100) == b"~P1 1 HELLO v=1*00000000\n"
    board.sendall(b"console text\n")
    assert line.read() == b"console text\n"


def test_a_descriptor_whose_far_end_left_is_disconnected(
    pair: tuple[DescriptorTransport, socket.socket],
) -> None:
    line, board = pair
    board.close()
    with pytest.raises(Disconnected) as gone:
        line.read()
    assert gone.value.reason == "the port returned no data"
    assert "fd://test: the board disconnected (the port returned no data)" in str(gone.value)
    with pytest.raises(Disconnected, match="the port is closed"):
        line.write(b"x")
    line.close()  # twice is harmless


def test_a_descriptor_is_closed_by_default_when_released() -> None:
    station, board = socket.socketpair()
    fd = os.dup(station.fileno())
    station.close()
    DescriptorTransport(fd, url="fd://dup", write_timeout=1.0).close()
    with pytest.raises(OSError):
        os.fstat(fd)
    board.close()


def test_pyserial_urls_other_than_ttys_go_through_pyserial() -> None:
    line: Transport = open_serial("loop://", baudrate=115200, write_timeout=1.0)
    assert isinstance(line, SerialTransport)
    assert line.url == "loop://"
    line.write(b"echo\n")
    assert line.read() == b"echo\n"
    line.close()
    with pytest.raises(Disconnected, match="the port is closed"):
        line.read()


def test_a_port_that_cannot_be_opened_says_what_to_check() -> None:
    with pytest.raises(Disconnected) as failed:
        open_serial("/nonexistent/ttyUSB9", baudrate=115200, write_timeout=1.0)
    assert str(failed.value).startswith("/nonexistent/ttyUSB9: cannot open the port (")
    assert "check the cable and that no other program is using it" in str(failed.value)


@pytest.mark.component
def test_a_tty_that_hangs_up_right_after_its_open_is_a_disconnect() -> None:
    # A board unplugged between the open and the first flush: termios.error (no OSError) came
    # out of open_serial and ended the slot's watcher thread, so the slot never showed the
    # board gone. It is a Disconnect like any other, and the port is let go.
    master, slave = os.openpty()
    url = os.ttyname(slave)
    port = serial.Serial(url, 115200, timeout=0.1)
    os.close(master)
    os.close(slave)
    try:
        with pytest.raises(Disconnected) as failed:
            _empty_input(port, url)
        assert str(failed.value).startswith(f"{url}: the board disconnected (")
        assert not port.is_open
    finally:
        port.close()


def test_a_descriptor_read_waits_as_long_as_it_is_told(
    pair: tuple[DescriptorTransport, socket.socket],
) -> None:
    line, board = pair
    late = threading.Timer(4 * POLL, board.sendall, (b"late\n",))
    late.start()
    try:
        assert line.read(wait=30) == b"late\n"  # one read, however many POLLs it took
    finally:
        late.cancel()


def test_a_far_end_that_leaves_during_a_long_read_is_seen_when_it_leaves(
    pair: tuple[DescriptorTransport, socket.socket],
) -> None:
    line, board = pair
    threading.Timer(2 * POLL, board.close).start()
    start = time.monotonic()
    with pytest.raises(Disconnected):
        line.read(wait=60)
    assert time.monotonic() - start < 30, "the read ran out its wait instead"
