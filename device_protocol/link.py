"""A blocking client for SPEC.md over a transport (any pyserial URL with :meth:`Link.open_url`).

The link sends requests and waits for their answers; the codec (framing, messages) does the
rest, and the transport (:mod:`device_protocol.transport`) only moves bytes. Transport faults
raise :class:`Disconnected` (made ``from`` the port's error) or :class:`Timeout`; an ERR
from the board raises :class:`DeviceError`; a board that answers outside the contract raises
:class:`ProtocolError`.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from device_protocol import messages as m
from device_protocol.errors import DeviceError, Disconnected, ProtocolError, Timeout
from device_protocol.framing import (
    DEFAULT_MAX_LINE,
    MARKER,
    SEQ_MODULO,
    ConsoleLine,
    Decoder,
    Event,
    Frame,
    Rejected,
    encode,
)
from device_protocol.link_limits import RequestLimits, parse_failure, worst_case_length
from device_protocol.link_objects import put_chain, read_object
from device_protocol.link_stats import LinkStats
from device_protocol.serial_port import open_serial
from device_protocol.trace import trace_in, trace_note, trace_out
from device_protocol.transport import Transport

R = TypeVar("R")

DEFAULT_BAUDRATE = m.DEFAULT_BAUD
DEFAULT_TIMEOUT = 2.0
DEFAULT_RETRIES = 3
#: Immediate re-sends after a damaged answer or a NAK, per request. Cheap (no waiting), so
#: generous: a noisy line costs time, not a failed board.
DEFAULT_RESENDS = 256
#: Overall cap on one KEYGEN: keep-alives may extend the request timeout, but not forever.
KEYGEN_DEADLINE = 180.0
#: Digits of the largest sequence number (the worst case of a request's length).
_SEQ_DIGITS = len(str(SEQ_MODULO - 1))
_TIMED_OUT = object()
_DAMAGED = object()
_NAKED = object()

__all__ = ["Link", "LinkStats", "worst_case_length"]


class Link:
    """One board on one port. Not thread-safe: one worker drives one link."""

    def __init__(
        self,
        transport: Transport,
        *,
        baudrate: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        resends: int = DEFAULT_RESENDS,
        on_console: Callable[[str], None] | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """A link over an open ``transport``; ``baudrate`` is the line's rate, named when bytes
        arrive but no frame does. ``clock`` (monotonic seconds) times requests out; ``sleep``
        waits out the pauses of a rate switch (SPEC.md 7.10)."""
        self.transport = transport
        self.url = transport.url
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.resends = resends
        self.on_console = on_console
        self.on_progress = on_progress
        self.clock = clock
        self.sleep = sleep
        self.stats = LinkStats()
        self.mtu = m.MIN_MTU  # until HELLO says otherwise
        self.caps: tuple[str, ...] = ()  # capabilities HELLO named (SPEC.md 1.3)
        self._decoder = Decoder(DEFAULT_MAX_LINE)
        self._events: deque[Event] = deque()
        self._seq = secrets.randbelow(SEQ_MODULO - 1) + 1
        self._pending: str | None = None  # the request being answered, for error messages
        self.sent_at = float("-inf")  # when the last request line went out (clock seconds)

    @classmethod
    def open_url(
        cls,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUDRATE,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        resends: int = DEFAULT_RESENDS,
        on_console: Callable[[str], None] | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Link:
        """A link over the pyserial URL ``url``, opened exclusively now; raises
        :class:`Disconnected` when the port cannot be opened."""
        transport = open_serial(url, baudrate=baudrate, write_timeout=timeout, clock=clock)
        return cls(
            transport,
            baudrate=baudrate,
            timeout=timeout,
            retries=retries,
            resends=resends,
            on_console=on_console,
            on_progress=on_progress,
            clock=clock,
        )

    # ---- the line ----------------------------------------------------------------------------

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def rate(self) -> int:
        """The line's rate now (the default when the transport has none, e.g. in memory)."""
        return self.baudrate or DEFAULT_BAUDRATE

    def _write(self, data: bytes) -> None:
        self.transport.write(data)
        self.stats.moved(self.rate, out=len(data))

    def _read(self, wait: float) -> bytes:
        data = self.transport.read(wait)
        if data:
            self.stats.moved(self.rate, into=len(data))
        return data

    def set_rate(self, rate: int) -> None:
        """Move this end of the line to ``rate`` baud and forget every byte received so far,
        decoded or not (SPEC.md 7.10); the same rate again only discards the input."""
        trace_note(self.url, f"line at {rate} baud, input discarded")
        self.transport.set_baudrate(rate)
        self.baudrate = rate
        self._decoder = Decoder(self._decoder.max_line)
        self._events.clear()

    def _left(self, reason: str) -> Disconnected:
        """The board is gone: say which request it was answering (SPEC.md 3)."""
        name = self._pending
        during = f" while answering {name}" if name else ""
        return Disconnected(
            self.url,
            f"the board left the line{during} ({reason}); reseat the board and retry",
            request=name,
            reason=reason,
        )

    # ---- requests ----------------------------------------------------------------------------

    def call(
        self,
        request: m.Request[R],
        *,
        deadline: float | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        transmissions: int | None = None,
        resend_damaged: bool = True,
    ) -> R:
        """Send one request and return its typed answer, retrying per SPEC.md section 3 within
        the limits given (the link's own by default; see :class:`RequestLimits`)."""
        seq = self._seq % (SEQ_MODULO - 1) + 1
        wire = encode(Frame(seq=seq, name=request.NAME, fields=request.to_fields()))
        # What worst_case_length(request) says, without encoding the frame a second time: the
        # same line with the longest sequence number.
        worst = len(wire) + _SEQ_DIGITS - len(str(seq))
        if worst > self.mtu:
            raise ProtocolError(
                self.url,
                f"{request.NAME} needs up to {worst} bytes, over the board's mtu {self.mtu}",
            )
        self._seq = seq
        self.stats.requests += 1
        self._pending = request.NAME
        try:
            limits = RequestLimits(
                timeout or self.timeout,
                self.retries if retries is None else retries,
                transmissions,
                resend_damaged,
            )
            end = None if deadline is None else self.clock() + deadline
            return self._exchange(request, wire, seq, end, limits)
        except Disconnected as e:
            if e.request is None:  # raised by the transport, which knows no requests
                raise self._left(e.reason) from e
            raise
        finally:
            self._pending = None

    def _exchange(
        self, request: m.Request[R], wire: bytes, seq: int, end: float | None, lim: RequestLimits
    ) -> R:
        """Send ``wire`` and wait for its answer, re-sending per SPEC.md sections 2.4 and 3."""
        timeouts = resends = sent = 0
        while True:
            trace_out(self.url, wire)
            self._write(wire)
            self.sent_at = self.clock()
            sent += 1
            answer = self._await(seq, request.NAME, end, lim.timeout)
            spent = lim.transmissions is not None and sent >= lim.transmissions
            if answer is _TIMED_OUT:
                timeouts += 1
                if timeouts > lim.retries or spent:
                    raise Timeout(self.url, self._silence(request.NAME), request=request.NAME)
                self.stats.retries += 1
                continue
            if answer is _DAMAGED and not lim.resend_damaged:
                raise ProtocolError(self.url, f"{request.NAME}: the answer arrived damaged")
            if answer is _DAMAGED or answer is _NAKED:
                resends += 1
                if resends > self.resends or spent:
                    raise ProtocolError(
                        self.url,
                        f"{request.NAME}: {resends} damaged frames in a row; the line is too "
                        "noisy, check the cable and the baud rate",
                    )
                self.stats.resends += 1
                continue
            assert isinstance(answer, Frame)
            if answer.name == m.ERR:
                failure = parse_failure(self.url, request.NAME, answer)
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

    def fits(self, request: m.Request[Any]) -> bool:
        """Whether ``request`` fits the board's mtu with any sequence number it may carry."""
        return worst_case_length(request) <= self.mtu

    def _silence(self, name: str) -> str:
        """Why nothing answered, as far as the bytes that did arrive tell."""
        if self.stats.bytes_in and not self._decoder.stats.frames:
            rate = f" ({self.baudrate})" if self.baudrate else ""
            return (
                f"{self.stats.bytes_in} bytes arrived but not one valid frame in answer to "
                f"{name}: check the baud rate{rate} and the cable, and that the "
                "board runs firmware that speaks the station protocol"
            )
        return (
            f"no answer to {name} within {self.timeout:g} s after {self.retries} retries; "
            "check the board is powered, seated and on this port"
        )

    def _too_long(self, event: Rejected, name: str) -> None:
        """A frame line over the limit is the board breaking its own mtu, not noise: re-sending
        cannot help, so say so (SPEC.md 2.5)."""
        if event.raw.startswith(MARKER):
            raise ProtocolError(
                self.url,
                f"in answer to {name} the board sent a frame line longer than "
                f"{self._decoder.max_line} bytes, over its mtu {self.mtu}: its firmware must keep "
                "every line within the mtu it states in HELLO (SPEC.md 2.5)",
            )

    def _await(self, seq: int, name: str, end: float | None, timeout: float) -> Frame | object:
        """The final answer (OK/ERR) for ``seq``; _DAMAGED or _NAKED when a damaged frame or a
        NAK says to re-send now; _TIMED_OUT when the request timeout expires."""
        expires = self.clock() + timeout
        while True:
            while self._events:
                event = self._events.popleft()
                if isinstance(event, ConsoleLine):
                    if self.on_console:
                        self.on_console(event.text)
                elif isinstance(event, Rejected):
                    self.stats.reject(event.reason)
                    if event.too_long:
                        self._too_long(event, name)
                        continue  # console text over the limit: dropped, never fatal
                    return _DAMAGED
                elif event.name == m.NAK and event.seq == 0:
                    self.stats.reject("NAK from the board")
                    return _NAKED
                elif event.seq != seq:
                    self.stats.stale_frames += 1
                elif event.name == m.BUSY:
                    self.stats.keepalives += 1
                    expires = self.clock() + timeout
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
            # Wait for bytes until the first deadline: nothing else can happen before then.
            data = self._read(min(expires, end) - now if end is not None else expires - now)
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
        self.caps = info.caps
        # SPEC.md 2.5: receive every line the board may send, up to its mtu.
        self._decoder.max_line = max(DEFAULT_MAX_LINE, info.mtu)
        return info

    def keygen(self, key_type: str, *, deadline: float = KEYGEN_DEADLINE) -> m.KeyInfo:
        info = self.call(m.Keygen(key_type), deadline=deadline)
        if info.key_type != key_type:
            raise ProtocolError(self.url, f"asked for a {key_type} key, board made {info.key_type}")
        return info

    def get_csr(self, cn: str = "") -> bytes:
        request = m.GetCsr(cn)
        if not self.fits(request):
            request = m.GetCsr()  # the hint is optional: the board then uses its uid
        return read_object(self, m.ObjectKind.CSR, self.call(request), request.NAME)

    def get_cert(self) -> bytes:
        return read_object(self, m.ObjectKind.CERT, self.call(m.GetCert()), m.GetCert.NAME)

    def sign(self, challenge: bytes) -> tuple[bytes, str]:
        info = self.call(m.Sign(challenge))
        return read_object(self, m.ObjectKind.SIG, info, m.Sign.NAME), info.alg or ""

    def lock(self) -> m.BoardState:
        return self.call(m.Lock()).state

    def put_cert(self, chain: bytes) -> bytes | None:
        """Write a certificate chain; the board commits it atomically on the last chunk (text
        chunks to a board that announced them, SPEC.md 1.3).

        Returns the SHA-256 of the chain as the board read it back from its storage (SPEC.md
        1.2, final chunk ``sha``), or None from a board that does not send it."""
        return put_chain(self, chain)
