"""A line in memory for pure tests of the Link and the engine: no ptys, no threads, no sleeps.

:class:`ScriptedTransport` is a :class:`~device_protocol.transport.Transport` whose far end is a
function of each frame the station writes: it returns what the board sends back, as lines, waits
(:class:`Wait`, in the clock's seconds) and a vanishing line (:class:`Gone`). Time is a
:class:`FakeClock` that only moves when the station waits for bytes that are not there (one
poll interval per empty read) or the script says so, so timeouts are exact and instant.
:class:`MemoryBoard` puts a virtual board's :class:`~fixtures.board.device.Device` on the far end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from device_protocol import messages as m
from device_protocol.errors import Disconnected
from device_protocol.framing import Decoder, Frame, encode
from device_protocol.transport import POLL
from fixtures.board.device import Device
from fixtures.board.element import SecureElement
from fixtures.board.identity import BoardIdentity


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Wait:
    """The board says nothing for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Gone:
    """The line vanishes (the station's next read or write raises Disconnected)."""

    reason: str = "Input/output error"


Step = bytes | Wait | Gone
Script = Callable[[Frame], Iterable[Step]]


def ok(seq: int, response: object = None, **fields: str) -> bytes:
    """An OK line for ``seq``: a response object's fields, or ``fields``."""
    if response is not None:
        fields = response.to_fields()  # type: ignore[attr-defined]
    return encode(Frame(seq=seq, name=m.OK, fields=fields))


def err(seq: int, status: m.Status, text: str = "") -> bytes:
    return encode(Frame(seq=seq, name=m.ERR, fields=m.Failure(int(status), text).to_fields()))


def busy(seq: int, pct: int | None = None) -> bytes:
    return encode(Frame(seq=seq, name=m.BUSY, fields=m.Progress(pct).to_fields()))


class ScriptedTransport:
    """The station's end of a line whose far end is ``script``."""

    def __init__(self, script: Script, clock: FakeClock, url: str = "memory://board") -> None:
        self.url = url
        self.script = script
        self.clock = clock
        self.sent: list[Frame] = []  # every frame the station wrote
        self.rates: list[int] = []  # every rate the station switched the line to
        self.closed = False
        self._decoder = Decoder(65536)
        self._inbox: deque[Step] = deque()

    def write(self, data: bytes) -> None:
        self._check()
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                self.sent.append(event)
                self._inbox.extend(self.script(event))

    def read(self, wait: float = POLL) -> bytes:
        """The script's next step; a wait passes in steps of at most :data:`POLL` of the fake
        clock, whatever ``wait`` the caller allows (a transport may return sooner)."""
        self._check()
        if not self._inbox:
            self.clock.advance(POLL)
            return b""
        step = self._inbox[0]
        if isinstance(step, Wait):
            waited = min(step.seconds, POLL)
            self.clock.advance(waited)
            left = step.seconds - waited
            if left > 0:
                self._inbox[0] = Wait(left)
            else:
                self._inbox.popleft()
            return b""
        if isinstance(step, Gone):
            return b""  # _check raises on the next call
        self._inbox.popleft()
        return step

    def set_baudrate(self, rate: int) -> None:
        """The rate changes nothing in memory; what was in flight is discarded."""
        self._check()
        self.rates.append(rate)
        self._inbox = deque(step for step in self._inbox if not isinstance(step, bytes))

    def close(self) -> None:
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise Disconnected(self.url, "the port is closed", reason="the port is closed")
        if self._inbox and isinstance(self._inbox[0], Gone):
            reason = self._inbox[0].reason
            self.closed = True
            raise Disconnected(self.url, f"the board disconnected ({reason})", reason=reason)


class MemoryBoard:
    """A virtual board's request handling (fixtures/board/device.py) at the end of a memory
    line, with its secure element in ``folder``. Like the firmware loop it replays the answer
    to a repeated sequence number. ``hang`` names requests it never answers; the board leaves
    the line (once) on receiving the request ``leave`` names, or after carrying out the one
    ``leave_after`` names, its answer lost."""

    def __init__(self, folder: Path, identity: BoardIdentity | None = None) -> None:
        self.identity = identity or BoardIdentity.random(key_types=("ec-p256",))
        self.device = Device(self.identity, SecureElement(folder / self.identity.uid))
        self.hang: set[str] = set()
        self.leave: str | None = None
        self.leave_after: str | None = None
        self._last: tuple[int, bytes] | None = None

    def __call__(self, frame: Frame) -> list[Step]:
        if self._last is not None and self._last[0] == frame.seq:
            return [self._last[1]]
        if frame.name in self.hang:
            return []
        if frame.name == self.leave:
            self.leave = None
            return [Gone()]
        request = self.device.decode(frame.name, frame.fields)
        answer = self.device.handle(request)
        line = encode(Frame(seq=frame.seq, name=answer.name, fields=answer.fields))
        self._last = (frame.seq, line)
        if frame.name == self.leave_after:
            self.leave_after = None
            return [Gone()]
        return [line]

    def line(self, clock: FakeClock) -> ScriptedTransport:
        """A fresh connection to this board (put on the jig again)."""
        self._last = None
        return ScriptedTransport(self, clock, url=f"memory://{self.identity.uid}")
