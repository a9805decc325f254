"""The station's end of an agent's pty, frame by frame, with no Link in between: requests built
by the reference codec, answers read with a deadline, and the line's speed as the pty's termios
reports it (a pty carries one termios for both ends, so the agent's tcsetattr shows here)."""

from __future__ import annotations

import os
import select
import termios
import time
import tty
from types import TracebackType

from device_protocol.framing import Decoder, Frame, encode

SPEEDS = {
    termios.B38400: 38400,  # a new pty's (QEMU leaves its pty there)
    termios.B115200: 115200,
    termios.B230400: 230400,
    termios.B460800: 460800,
    termios.B921600: 921600,
}


class RawLine:
    """An open pty slave in raw mode, speaking frames."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.decoder = Decoder()
        self.pending: list[Frame] = []
        self.seq = 100

    def __enter__(self) -> RawLine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        os.close(self.fd)

    def send(self, name: str, seq: int | None = None, **fields: str) -> Frame:
        """Send a request (a new seq unless given) and return it."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        frame = Frame(seq=seq, name=name, fields=fields)
        os.write(self.fd, encode(frame))
        return frame

    def answer(self, seq: int, timeout: float = 2.0) -> Frame | None:
        """The next frame with this seq (BUSY skipped), or None when none came in time."""
        deadline = time.monotonic() + timeout
        while True:
            for i, frame in enumerate(self.pending):
                if frame.seq == seq and frame.name != "BUSY":
                    del self.pending[i]
                    return frame
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            events = self.decoder.feed(os.read(self.fd, 4096))
            self.pending.extend(e for e in events if isinstance(e, Frame))

    def request(self, name: str, timeout: float = 2.0, **fields: str) -> Frame:
        """Send a request and return its answer (an AssertionError when none came)."""
        sent = self.send(name, **fields)
        got = self.answer(sent.seq, timeout)
        assert got is not None, f"no answer to {name} within {timeout} s"
        return got

    def drain(self) -> None:
        """Discard what has arrived (the station does after switching its port)."""
        while select.select([self.fd], [], [], 0)[0]:
            os.read(self.fd, 4096)
        self.pending.clear()

    def speed(self) -> int:
        """The pty's output speed, in baud."""
        return SPEEDS[termios.tcgetattr(self.fd)[5]]

    def wait_speed(self, rate: int, timeout: float) -> float:
        """Poll the termios until the speed is rate; the seconds it took (AssertionError if not)."""
        start = time.monotonic()
        while self.speed() != rate:
            assert time.monotonic() - start < timeout, f"speed {self.speed()}, not {rate}"
            select.select([], [], [], 0.002)
        return time.monotonic() - start
