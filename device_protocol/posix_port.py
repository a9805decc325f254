"""A transport over a POSIX descriptor (a tty or pty opened by pyserial, a socket): one poll and
one read per chunk, the hot path of a 32-slot jig. POSIX only; the station reaches it through
:func:`device_protocol.serial_port.open_serial`, which falls back to pyserial elsewhere."""

from __future__ import annotations

import contextlib
import math
import os
import select
import termios
import time
from collections.abc import Callable

from device_protocol.errors import Disconnected, Timeout
from device_protocol.transport import POLL, lost


class DescriptorTransport:
    """An open, non-blocking descriptor. Not thread-safe.

    ``release`` lets the descriptor go (pyserial's ``close`` for a port it opened); by default
    the descriptor is closed.
    """

    def __init__(
        self,
        fd: int,
        *,
        url: str,
        write_timeout: float,
        clock: Callable[[], float] = time.monotonic,
        release: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.write_timeout = write_timeout
        self.clock = clock
        self._fd: int | None = fd
        self._release = release or (lambda: os.close(fd))
        self._poller = select.poll()  # no descriptor limit, unlike select()
        self._poller.register(fd, select.POLLIN)

    def read(self, wait: float = POLL) -> bytes:
        """What pyserial's read does on POSIX, in one poll (up to ``wait`` seconds) and one
        read."""
        fd = self._open_fd()
        try:
            if not self._poller.poll(max(0, math.ceil(wait * 1000))):
                return b""
            data = os.read(fd, 65536)
        except BlockingIOError:
            return b""
        except (OSError, ValueError) as e:
            raise self._gone(e) from e
        if not data:
            raise self._gone(OSError("the port returned no data"))
        return data

    def write(self, data: bytes) -> None:
        fd = self._open_fd()
        try:
            written = os.write(fd, data)  # a request fits the port's buffer: one call
        except BlockingIOError:
            written = 0
        except OSError as e:
            raise self._gone(e) from e
        if written < len(data):
            self._write_rest(fd, memoryview(data)[written:])

    def _write_rest(self, fd: int, view: memoryview) -> None:
        """Write what the port did not take at once, waiting for room up to the timeout."""
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
                    raise Timeout(self.url, "the port did not accept data in time", request="write")
                writable = select.poll()
                writable.register(fd, select.POLLOUT)
                writable.poll(POLL * 1000)

    def set_baudrate(self, rate: int) -> None:
        """The line's speed through termios (standard rates only), then its input flushed."""
        fd = self._open_fd()
        speed = getattr(termios, f"B{rate}", None)
        if not isinstance(speed, int):
            raise Disconnected(
                self.url,
                f"this system's serial driver has no {rate} baud setting; set [jig] max_baud "
                "to a rate it supports",
                reason=f"no {rate} baud",
            )
        try:
            attrs = termios.tcgetattr(fd)
            attrs[4] = attrs[5] = speed
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            termios.tcflush(fd, termios.TCIFLUSH)
        except (termios.error, OSError) as e:
            raise self._gone(e) from e

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):  # the line is gone either way
                self._release()

    def _open_fd(self) -> int:
        if self._fd is None:
            raise Disconnected(self.url, "the port is closed", reason="the port is closed")
        return self._fd

    def _gone(self, e: BaseException) -> Disconnected:
        self.close()
        return lost(self.url, e)
