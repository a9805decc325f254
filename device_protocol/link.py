"""A blocking client for SPEC.md over any pyserial URL.

The link only moves bytes and waits; the codec (framing, messages) does the rest. Transport
faults raise :class:`Disconnected` (made ``from`` the pyserial error) or :class:`Timeout`; an ERR
from the board raises :class:`DeviceError`; a board that answers outside the contract raises
:class:`ProtocolError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import select
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import serial

from device_protocol import messages as m
from device_protocol.errors import DeviceError, Disconnected, ProtocolError, Timeout
from device_protocol.framing import (
    DEFAULT_MAX_LINE,
    SEQ_MODULO,
    ConsoleLine,
    Decoder,
    Event,
    Frame,
    Rejected,
    encode,
)
from device_protocol.trace import trace_in, trace_out
from device_protocol.transfer import chunk_capacity, chunks

R = TypeVar("R")

DEFAULT_BAUDRATE = 115200
DEFAULT_TIMEOUT = 2.0
DEFAULT_RETRIES = 3
#: Immediate re-sends after a damaged answer or a NAK, per request. Cheap (no waiting), so
#: generous: a noisy line costs time, not a failed board.
DEFAULT_RESENDS = 256
#: Overall cap on one KEYGEN: keep-alives may extend the request timeout, but not forever.
KEYGEN_DEADLINE = 180.0
_POLL = 0.05
_TIMED_OUT = object()
_DAMAGED = object()


@dataclass
class LinkStats:
    requests: int = 0
    retries: int = 0
    resends: int = 0
    keepalives: int = 0
    stale_frames: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    rejected: list[str] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        if len(self.rejected) < 100:
            self.rejected.append(reason)


SerialFactory = Callable[..., Any]


class Link:
    """One board on one port. Not thread-safe: one worker drives one link."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUDRATE,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        resends: int = DEFAULT_RESENDS,
        on_console: Callable[[str], None] | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        serial_for_url: SerialFactory = serial.serial_for_url,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.resends = resends
        self.on_console = on_console
        self.on_progress = on_progress
        self.clock = clock
        self.stats = LinkStats()
        self.mtu = m.MIN_MTU  # until HELLO says otherwise
        self._serial_for_url = serial_for_url
        self._port: Any = None
        self._fd: int | None = None  # POSIX serial ports: read and write the descriptor directly
        self._poller: Any = None
        self._decoder = Decoder(DEFAULT_MAX_LINE)
        self._events: deque[Event] = deque()
        self._seq = secrets.randbelow(SEQ_MODULO - 1) + 1

    # ---- port --------------------------------------------------------------------------------

    def open(self) -> Link:
        try:
            port = self._serial_for_url(
                self.url,
                baudrate=self.baudrate,
                timeout=_POLL,
                write_timeout=self.timeout,
                exclusive=True,
                do_not_open=True,
            )
            port.open()
            port.reset_input_buffer()
        except (serial.SerialException, OSError, ValueError) as e:
            raise Disconnected(
                self.url,
                f"cannot open the port ({_first_line(e)}); check the cable and that "
                "no other program is using it",
            ) from e
        self._port = port
        self._fd = _posix_fd(port)
        return self

    def close(self) -> None:
        port, self._port, self._fd, self._poller = self._port, None, None, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def __enter__(self) -> Link:
        return self.open() if self._port is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        if self._fd is not None:
            self._write_fd(self._fd, data)
            return
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as e:
            raise Timeout(self.url, "the port did not accept data in time", request="write") from e
        except (serial.SerialException, OSError) as e:
            raise self._disconnected(e) from e
        self.stats.bytes_out += len(data)

    def _write_fd(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        end = self.clock() + self.timeout
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                pass
            except OSError as e:
                raise self._disconnected(e) from e
            if view:
                if self.clock() >= end:
                    raise Timeout(self.url, "the port did not accept data in time", request="write")
                writable = select.poll()
                writable.register(fd, select.POLLOUT)
                writable.poll(_POLL * 1000)
        self.stats.bytes_out += len(data)

    def _read_fd(self, fd: int) -> bytes:
        """What pyserial's read does on POSIX, in one select and one read: the hot path."""
        try:
            if self._poller is None:
                self._poller = select.poll()  # no descriptor limit, unlike select()
                self._poller.register(fd, select.POLLIN)
            if not self._poller.poll(_POLL * 1000):
                return b""
            data = os.read(fd, 65536)
        except BlockingIOError:
            return b""
        except (OSError, ValueError) as e:
            raise self._disconnected(e) from e
        if not data:
            raise self._disconnected(OSError("the port returned no data"))
        self.stats.bytes_in += len(data)
        return data

    def _read(self) -> bytes:
        if self._fd is not None:
            return self._read_fd(self._fd)
        try:
            data: bytes = self._port.read(self._port.in_waiting or 1)
        except (serial.SerialException, OSError, TypeError) as e:
            # pyserial raises TypeError from in_waiting on some closed-port races.
            raise self._disconnected(e) from e
        self.stats.bytes_in += len(data)
        return data

    def _disconnected(self, e: BaseException) -> Disconnected:
        self.close()
        return Disconnected(
            self.url, f"the board disconnected ({_first_line(e)}); reseat the board and retry"
        )

    # ---- requests ----------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = self._seq % (SEQ_MODULO - 1) + 1
        return self._seq

    def call(self, request: m.Request[R], *, deadline: float | None = None) -> R:
        """Send one request and return its typed answer, retrying per SPEC.md section 3."""
        if self._port is None:
            self.open()
        seq = self._next_seq()
        wire = encode(Frame(seq=seq, name=request.NAME, fields=request.to_fields()))
        if len(wire) > self.mtu:
            raise ProtocolError(
                self.url, f"{request.NAME} needs {len(wire)} bytes > mtu {self.mtu}"
            )
        self.stats.requests += 1
        end = None if deadline is None else self.clock() + deadline
        timeouts = resends = 0
        while True:
            trace_out(self.url, wire)
            self._write(wire)
            answer = self._await(seq, request.NAME, end)
            if answer is _TIMED_OUT:
                timeouts += 1
                if timeouts > self.retries:
                    raise Timeout(self.url, self._silence(request.NAME), request=request.NAME)
                self.stats.retries += 1
                continue
            if answer is _DAMAGED:
                resends += 1
                if resends > self.resends:
                    raise ProtocolError(
                        self.url,
                        f"{request.NAME}: {resends} damaged frames in a row; the line is too "
                        "noisy, check the cable and the baud rate",
                    )
                self.stats.resends += 1
                continue
            assert isinstance(answer, Frame)
            if answer.name == m.ERR:
                failure = _parse(self.url, request.NAME, m.Failure, answer)
                raise DeviceError(
                    self.url,
                    request=request.NAME,
                    status=failure.status,
                    name=m.status_name(failure.status),
                    text=failure.text,
                )
            try:
                return request.parse_response(answer.fields)
            except m.FieldError as e:
                raise ProtocolError(self.url, f"bad answer to {request.NAME}: {e}") from e

    def _silence(self, name: str) -> str:
        """Why nothing answered, as far as the bytes that did arrive tell."""
        if self.stats.bytes_in and not self._decoder.stats.frames:
            return (
                f"{self.stats.bytes_in} bytes arrived but not one valid frame in answer to "
                f"{name}: check the baud rate ({self.baudrate}) and the cable, and that the "
                "board runs firmware that speaks the station protocol"
            )
        return (
            f"no answer to {name} within {self.timeout:g} s after {self.retries} retries; "
            "check the board is powered, seated and on this port"
        )

    def _await(self, seq: int, name: str, end: float | None) -> Frame | object:
        """The final answer (OK/ERR) for ``seq``; _DAMAGED when a damaged frame or a NAK says
        to re-send now; _TIMED_OUT when the request timeout expires."""
        expires = self.clock() + self.timeout
        while True:
            while self._events:
                event = self._events.popleft()
                if isinstance(event, ConsoleLine):
                    if self.on_console:
                        self.on_console(event.text)
                elif isinstance(event, Rejected):
                    self.stats.reject(event.reason)
                    return _DAMAGED
                elif event.name == m.NAK and event.seq == 0:
                    self.stats.reject("NAK from the board")
                    return _DAMAGED
                elif event.seq != seq:
                    self.stats.stale_frames += 1
                elif event.name == m.BUSY:
                    self.stats.keepalives += 1
                    expires = self.clock() + self.timeout
                    if self.on_progress:
                        pct = m.Progress.from_fields(event.fields).pct
                        self.on_progress(name, pct or 0, 100)
                elif event.name in (m.OK, m.ERR):
                    return event
                else:
                    self.stats.reject(f"unexpected {event.name} frame")
            now = self.clock()
            if end is not None and now >= end:
                raise Timeout(self.url, f"{name} did not finish in time", request=name)
            if now >= expires:
                return _TIMED_OUT
            data = self._read()
            if data:
                events = self._decoder.feed(data)
                trace_in(self.url, events)
                self._events.extend(events)

    # ---- the messages of SPEC.md ---------------------------------------------------------------

    def hello(self) -> m.HelloInfo:
        request = m.Hello()
        info = self.call(request)
        if info.version > request.max_version:  # SPEC.md 6.2: give up on such a board
            raise ProtocolError(
                self.url,
                f"HELLO answered v={info.version}, above the v={request.max_version} offered; "
                "the board does not negotiate the protocol version: check its firmware",
            )
        self.mtu = info.mtu
        return info

    def keygen(self, key_type: str, *, deadline: float = KEYGEN_DEADLINE) -> m.KeyInfo:
        info = self.call(m.Keygen(key_type), deadline=deadline)
        if info.key_type != key_type:
            raise ProtocolError(self.url, f"asked for a {key_type} key, board made {info.key_type}")
        return info

    def get_csr(self, cn: str = "") -> bytes:
        hint = cn if len(encode(Frame(seq=1, name="GET_CSR", fields={"cn": cn}))) < self.mtu else ""
        return self._read_object(m.ObjectKind.CSR, self.call(m.GetCsr(hint)))

    def get_cert(self) -> bytes:
        return self._read_object(m.ObjectKind.CERT, self.call(m.GetCert()))

    def sign(self, challenge: bytes) -> tuple[bytes, str]:
        info = self.call(m.Sign(challenge))
        return self._read_object(m.ObjectKind.SIG, info), info.alg or ""

    def lock(self) -> m.BoardState:
        return self.call(m.Lock()).state

    def put_cert(self, chain: bytes) -> None:
        """Write a certificate chain; the board commits it atomically on the last chunk."""
        if not chain:
            raise ValueError("empty certificate chain")
        ack = self.call(m.PutCertBegin(len(chain), hashlib.sha256(chain).digest()))
        if ack.next != 0:
            raise ProtocolError(self.url, f"PUT_CERT begin answered next={ack.next}, expected 0")
        capacity = chunk_capacity(self.mtu, "PUT_CERT", len(chain))
        for off, piece in chunks(chain, capacity):
            ack = self.call(m.PutCertChunk(off, piece))
            end = off + len(piece)
            if ack.next != end:
                raise ProtocolError(self.url, f"PUT_CERT at {off}: board expects {ack.next}")
            if self.on_progress:
                self.on_progress("PUT_CERT", end, len(chain))
        if not ack.done:
            raise ProtocolError(self.url, "PUT_CERT: the board did not confirm the commit")

    def _read_object(self, kind: m.ObjectKind, info: m.ObjectInfo) -> bytes:
        data = bytearray()
        while len(data) < info.total:
            chunk = self.call(m.Read(kind.value, len(data)))
            if chunk.off != len(data) or not chunk.data:
                raise ProtocolError(self.url, f"READ {kind} at {len(data)} returned {chunk.off}")
            data += chunk.data
            if len(data) > info.total:
                raise ProtocolError(self.url, f"READ {kind} returned more than {info.total} bytes")
            if self.on_progress:
                self.on_progress(f"READ {kind}", len(data), info.total)
        if hashlib.sha256(data).digest() != info.sha256:
            raise ProtocolError(self.url, f"{kind} read back with a wrong SHA-256; retry the board")
        return bytes(data)


def _parse(port: str, request: str, cls: type[m.Failure], frame: Frame) -> m.Failure:
    try:
        return cls.from_fields(frame.fields)
    except m.FieldError as e:
        raise ProtocolError(port, f"bad ERR answer to {request}: {e}") from e


def _posix_fd(port: Any) -> int | None:
    """The descriptor of a pyserial POSIX port (ttys, ptys); None for other transports."""
    if os.name != "posix" or type(port).__module__ != "serial.serialposix":
        return None
    fd = getattr(port, "fd", None)
    return fd if isinstance(fd, int) else None


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]
