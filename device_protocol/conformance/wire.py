"""The suite's view of the line: one transport, tapped, shared by a Link and raw frames.

The :class:`Link` hides exactly what the conformance suite must see (retries, replays, NAKs,
BUSY timing), so the suite also sends hand-made frames through :class:`RawClient`. Both go
through one :class:`TappedTransport`, which records every line the board sends (with its arrival
time) so that line lengths and damaged board frames are checked over the whole run.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from device_protocol import messages as m
from device_protocol.framing import MARKER, SEQ_MODULO, Frame, Rejected, encode, parse_line
from device_protocol.transport import POLL, Transport


@dataclass(frozen=True)
class Line:
    """One line from the board (without its LF), when it arrived, and what it decoded to."""

    at: float
    raw: bytes
    frame: Frame | None
    damaged: bool

    @property
    def frame_bytes(self) -> int:
        """Length of the frame part counting the LF (0 for console text)."""
        start = self.raw.find(MARKER)
        return 0 if start < 0 else len(self.raw) - start + 1


class TappedTransport:
    """A transport that records the board's lines; the Link and the raw client both use it."""

    def __init__(self, line: Transport) -> None:
        self._line = line
        self.lines: list[Line] = []  # every line of the run
        self.pending: list[Line] = []  # lines not yet taken by the raw client
        self._buf = bytearray()

    # -- the transport the Link uses --------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._line.url

    def read(self, wait: float = POLL) -> bytes:
        data = self._line.read(wait)
        if data:
            self._record(data)
        return data

    def write(self, data: bytes) -> None:
        self._line.write(data)

    def set_baudrate(self, rate: int) -> None:
        self._line.set_baudrate(rate)
        self._buf.clear()
        self.pending.clear()

    def close(self) -> None:
        """Kept open for the next case; :meth:`shutdown` closes it."""

    def shutdown(self) -> None:
        self._line.close()

    # -- the tap ----------------------------------------------------------------------------------

    def _record(self, data: bytes) -> None:
        now = time.monotonic()
        self._buf += data
        while (nl := self._buf.find(b"\n")) >= 0:
            raw = bytes(self._buf[:nl]).rstrip(b"\r")
            del self._buf[: nl + 1]
            if not raw:
                continue
            events = parse_line(raw)
            frame = next((e for e in events if isinstance(e, Frame)), None)
            damaged = any(isinstance(e, Rejected) for e in events)
            line = Line(now, raw, frame, damaged)
            self.lines.append(line)
            self.pending.append(line)

    def poll(self) -> None:
        """Read what has arrived (waits up to one poll interval)."""
        self.read()


@dataclass
class Exchange:
    """What came back for one request sent by hand."""

    seq: int
    sent: bytes
    sent_at: float
    final: Frame | None = None
    final_raw: bytes = b""
    final_at: float = 0.0
    busy_at: list[float] = field(default_factory=list)
    naks: int = 0
    other: list[Line] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        """The ERR code, or None for OK (or no answer)."""
        if self.final is None or self.final.name != m.ERR:
            return None
        code = self.final.get("code", "")
        return int(code) if code and code.isdigit() else -1

    @property
    def final_frame(self) -> bytes:
        """The final answer's frame bytes, without console text before it on its line: a
        replayed answer is the same frame, not necessarily the same line (SPEC.md 2.3)."""
        return self.final_raw[self.final_raw.rfind(MARKER) :] if self.final is not None else b""

    def describe(self) -> str:
        if self.final is None:
            return "no final answer"
        return self.final_raw.decode("utf-8", "replace")[:160]


class RawClient:
    """Hand-made frames over the tapped port, with the timing and bytes of what comes back."""

    def __init__(self, port: TappedTransport, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self._seq = secrets.randbelow(SEQ_MODULO - 1) + 1

    def next_seq(self) -> int:
        self._seq = self._seq % (SEQ_MODULO - 1) + 1
        return self._seq

    def frame(self, name: str, fields: dict[str, str] | None = None, version: int = 1) -> bytes:
        return encode(Frame(seq=self.next_seq(), name=name, fields=fields or {}, version=version))

    def drain(self, quiet: float = 0.05) -> None:
        """Forget what arrived so far (console chatter, late answers)."""
        end = time.monotonic() + quiet
        while time.monotonic() < end:
            self.port.poll()
        self.port.pending.clear()

    def send(
        self, wire: bytes, *, seq: int | None = None, timeout: float | None = None
    ) -> Exchange:
        """Send ``wire`` and wait for the final answer (OK/ERR) carrying ``seq``.

        ``seq`` defaults to the one in ``wire``. BUSY frames restart the timeout, as at a station.
        """
        if seq is None:
            seq = int(wire.split(b" ", 2)[1])
        self.drain(0)
        ex = Exchange(seq=seq, sent=wire, sent_at=time.monotonic())
        self.port.write(wire)
        expires = ex.sent_at + (timeout or self.timeout)
        while time.monotonic() < expires:
            self.port.poll()
            while self.port.pending:
                line = self.port.pending.pop(0)
                f = line.frame
                if f is not None and f.name == m.NAK and f.seq == 0:
                    ex.naks += 1
                elif f is not None and f.seq == seq and f.name == m.BUSY:
                    ex.busy_at.append(line.at)
                    expires = line.at + (timeout or self.timeout)
                elif f is not None and f.seq == seq and f.name in (m.OK, m.ERR):
                    ex.final, ex.final_raw, ex.final_at = f, line.raw, line.at
                    return ex
                else:
                    ex.other.append(line)
        return ex

    def call(self, name: str, fields: dict[str, str] | None = None) -> Exchange:
        return self.send(self.frame(name, fields))

    def listen(self, seconds: float) -> list[Line]:
        """Every line that arrives within ``seconds`` (returns early on a NAK)."""
        out: list[Line] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.port.poll()
            while self.port.pending:
                line = self.port.pending.pop(0)
                out.append(line)
                if line.frame is not None and line.frame.name == m.NAK:
                    return out
        return out
