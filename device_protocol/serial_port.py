"""Open a pyserial URL exclusively as a transport: COM ports, ttys, ``socket://``,
``rfc2217://``, ``loop://``.

On POSIX serial ports (ttys, ptys) bytes go through the descriptor directly
(:class:`~device_protocol.posix_port.DescriptorTransport`); every other port moves them through
pyserial (:class:`SerialTransport`). A vanished port raises :class:`Disconnected` (made ``from``
the pyserial or OS error, its ``reason`` the port's own words).
"""

from __future__ import annotations

import contextlib
import os
import termios
import time
from collections.abc import Callable
from typing import Any

import serial

from device_protocol.errors import Disconnected, Timeout
from device_protocol.posix_port import DescriptorTransport
from device_protocol.transport import POLL, Transport, first_line, lost

__all__ = ["SerialTransport", "open_serial"]

#: What pyserial lets out when a port cannot be opened or set up. termios.error is no OSError:
#: a tty that hangs up between its open and the first flush raises it from reset_input_buffer.
_SETUP_ERRORS = (serial.SerialException, OSError, ValueError, termios.error)


class SerialTransport:
    """An open pyserial port. Not thread-safe."""

    def __init__(self, port: Any, *, url: str) -> None:
        self.url = url
        self._port: Any = port

    def read(self, wait: float = POLL) -> bytes:
        """Up to the port's own timeout (:data:`POLL`, set when it was opened), not ``wait``:
        setting pyserial's timeout reconfigures the port."""
        port = self._open_port()
        try:
            data: bytes = port.read(port.in_waiting or 1)
        except (serial.SerialException, OSError, TypeError) as e:
            # pyserial raises TypeError from in_waiting on some closed-port races.
            raise self._gone(e) from e
        return data

    def write(self, data: bytes) -> None:
        port = self._open_port()
        try:
            port.write(data)
        except serial.SerialTimeoutException as e:
            raise Timeout(self.url, "the port did not accept data in time", request="write") from e
        except (serial.SerialException, OSError) as e:
            raise self._gone(e) from e

    def set_baudrate(self, rate: int) -> None:
        port = self._open_port()
        try:
            port.baudrate = rate
            port.reset_input_buffer()
        except _SETUP_ERRORS as e:
            raise self._gone(e) from e

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _open_port(self) -> Any:
        if self._port is None:
            raise Disconnected(self.url, "the port is closed", reason="the port is closed")
        return self._port

    def _gone(self, e: BaseException) -> Disconnected:
        self.close()
        return lost(self.url, e)


def open_serial(
    url: str,
    *,
    baudrate: int,
    write_timeout: float,
    clock: Callable[[], float] = time.monotonic,
) -> Transport:
    """The port ``url``, opened exclusively at ``baudrate`` (8N1), its input buffer emptied."""
    try:
        port = serial.serial_for_url(
            url,
            baudrate=baudrate,
            timeout=POLL,
            write_timeout=write_timeout,
            exclusive=True,
            do_not_open=True,
        )
        port.open()
    except _SETUP_ERRORS as e:
        raise Disconnected(
            url,
            f"cannot open the port ({first_line(e)}); check the cable and that "
            "no other program is using it",
        ) from e
    _empty_input(port, url)
    fd = _posix_fd(port)
    if fd is None:
        return SerialTransport(port, url=url)
    return DescriptorTransport(
        fd, url=url, write_timeout=write_timeout, clock=clock, release=port.close
    )


def _empty_input(port: Any, url: str) -> None:
    """Throw away what arrived before the port was ours; a port gone already is Disconnected."""
    try:
        port.reset_input_buffer()
    except _SETUP_ERRORS as e:
        with contextlib.suppress(*_SETUP_ERRORS):
            port.close()
        raise lost(url, e) from e


def _posix_fd(port: Any) -> int | None:
    """The descriptor of a pyserial POSIX port (ttys, ptys); None for other transports."""
    if os.name != "posix" or type(port).__module__ != "serial.serialposix":
        return None
    fd = getattr(port, "fd", None)
    return fd if isinstance(fd, int) else None
