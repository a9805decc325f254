"""The Link's port: open a pyserial URL exclusively and move bytes, nothing else.

On POSIX serial ports (ttys, ptys) reads and writes go to the descriptor directly: one poll and
one read per chunk, the hot path of a 32-slot jig. A vanished port raises :class:`Disconnected`
(made ``from`` the pyserial or OS error, its ``reason`` the port's own words); the Link adds
which request the board was answering.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Callable
from typing import Any

import serial

from device_protocol.errors import Disconnected, Timeout

#: How long one read waits for bytes; the Link's timeouts are counted in these steps.
POLL = 0.05

SerialFactory = Callable[..., Any]


class SerialPort:
    """One open port. Not thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int,
        write_timeout: float,
        clock: Callable[[], float],
        serial_for_url: SerialFactory = serial.serial_for_url,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.write_timeout = write_timeout
        self.clock = clock
        self._serial_for_url = serial_for_url
        self._port: Any = None
        self._fd: int | None = None
        self._poller: Any = None

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        try:
            port = self._serial_for_url(
                self.url,
                baudrate=self.baudrate,
                timeout=POLL,
                write_timeout=self.write_timeout,
                exclusive=True,
                do_not_open=True,
            )
            port.open()
            port.reset_input_buffer()
        except (serial.SerialException, OSError, ValueError) as e:
            raise Disconnected(
                self.url,
                f"cannot open the port ({first_line(e)}); check the cable and that "
                "no other program is using it",
            ) from e
        self._port = port
        self._fd = _posix_fd(port)

    def close(self) -> None:
        port, self._port, self._fd, self._poller = self._port, None, None, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def write(self, data: bytes) -> None:
        if self._fd is not None:
            self._write_fd(self._fd, data)
            return
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as e:
            raise self._slow() from e
        except (serial.SerialException, OSError) as e:
            raise self._gone(e) from e

    def read(self) -> bytes:
        """What has arrived, waiting up to :data:`POLL` seconds (b"" when nothing did)."""
        if self._fd is not None:
            return self._read_fd(self._fd)
        try:
            data: bytes = self._port.read(self._port.in_waiting or 1)
        except (serial.SerialException, OSError, TypeError) as e:
            # pyserial raises TypeError from in_waiting on some closed-port races.
            raise self._gone(e) from e
        return data

    def _write_fd(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        end = self.clock() + self.write_timeout
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                pass
            except OSError as e:
                raise self._gone(e) from e
            if view:
                if self.clock() >= end:
                    raise self._slow()
                writable = select.poll()
                writable.register(fd, select.POLLOUT)
                writable.poll(POLL * 1000)

    def _read_fd(self, fd: int) -> bytes:
        """What pyserial's read does on POSIX, in one poll and one read: the hot path."""
        try:
            if self._poller is None:
                self._poller = select.poll()  # no descriptor limit, unlike select()
                self._poller.register(fd, select.POLLIN)
            if not self._poller.poll(POLL * 1000):
                return b""
            data = os.read(fd, 65536)
        except BlockingIOError:
            return b""
        except (OSError, ValueError) as e:
            raise self._gone(e) from e
        if not data:
            raise self._gone(OSError("the port returned no data"))
        return data

    def _slow(self) -> Timeout:
        return Timeout(self.url, "the port did not accept data in time", request="write")

    def _gone(self, e: BaseException) -> Disconnected:
        self.close()
        reason = first_line(e)
        return Disconnected(self.url, f"the board disconnected ({reason})", reason=reason)


def _posix_fd(port: Any) -> int | None:
    """The descriptor of a pyserial POSIX port (ttys, ptys); None for other transports."""
    if os.name != "posix" or type(port).__module__ != "serial.serialposix":
        return None
    fd = getattr(port, "fd", None)
    return fd if isinstance(fd, int) else None


def first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]
