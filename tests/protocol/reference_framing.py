"""The frame codec as it was before its fast paths (device_protocol/framing.py at 6fcb635),
kept unchanged as the reference that test_framing_reference.py holds the fast codec equal to.

Sans-I/O framing: bytes in, frames and console lines out; frames in, bytes out.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Start marker of a frame inside a line; everything before it on that line is console text.
MARKER = b"~P"
#: Protocol version spoken by this package.
VERSION = 1
#: Sequence numbers are 0..65535; 0 is never used for requests.
SEQ_MODULO = 65536
#: A receiver's buffer never grows past this many bytes of one line unless told otherwise.
DEFAULT_MAX_LINE = 4096

_NAME_RE = re.compile(rb"[A-Z][A-Z0-9_]{0,15}\Z")
_KEY_RE = re.compile(rb"[a-z][a-z0-9_]{0,15}\Z")
_VERSION_RE = re.compile(rb"P([0-9]{1,3})\Z")
_SEQ_RE = re.compile(rb"[0-9]{1,5}\Z")
_CRC_RE = re.compile(rb"[0-9A-Fa-f]{8}\Z")
# Bytes a value may carry as they are; anything else is written %XX.
_SAFE = frozenset(range(0x21, 0x7F)) - {ord("%"), ord("*"), ord("~")}
_UNSAFE_RE = re.compile(b"[^" + b"".join(re.escape(bytes([c])) for c in sorted(_SAFE)) + b"]")


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (the zlib/Ethernet CRC): check value of b"123456789" is 0xCBF43926."""
    return zlib.crc32(data) & 0xFFFFFFFF


def pct_encode(value: str) -> bytes:
    raw = value.encode("utf-8")
    if not _UNSAFE_RE.search(raw):
        return raw  # the common case (numbers, tokens, base64): nothing to escape
    return _UNSAFE_RE.sub(lambda m: b"%%%02X" % m.group()[0], raw)


def pct_decode(raw: bytes) -> str:
    """Decode %XX escapes; raises ValueError on a broken escape or invalid UTF-8."""
    if b"%" not in raw:
        return raw.decode("ascii")
    out = bytearray()
    i = 0
    while i < len(raw):
        b = raw[i]
        if b == 0x25:  # %
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or not all(c in b"0123456789ABCDEFabcdef" for c in pair):
                raise ValueError("broken %-escape")
            out.append(int(pair, 16))
            i += 3
        else:
            out.append(b)
            i += 1
    return out.decode("utf-8")


@dataclass(frozen=True)
class Frame:
    """One decoded frame. Field values are text; the message layer gives them types."""

    seq: int
    name: str
    fields: Mapping[str, str] = field(default_factory=dict)
    version: int = VERSION

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)


@dataclass(frozen=True)
class ConsoleLine:
    """A line that is not a frame: the board's log output, passed on, never fatal.

    ``partial`` marks text that shares its line with a frame: before its marker, or after its
    CRC up to the LF (SPEC.md 2.3). A board does not NAK those (2.4), only lines with no frame.
    """

    text: str
    partial: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Rejected:
    """A line that looked like a frame but was not valid (bad CRC, bad grammar, too long)."""

    reason: str
    raw: bytes
    #: Dropped for its length (a receiver's limit), not for damage.
    too_long: bool = False


Event = Frame | ConsoleLine | Rejected


class FrameError(ValueError):
    """Raised by :func:`encode` for a frame that the grammar cannot express."""


def encode(frame: Frame) -> bytes:
    """The wire bytes of one frame, LF-terminated."""
    if not 0 <= frame.seq < SEQ_MODULO:
        raise FrameError(f"sequence number {frame.seq} out of range 0..65535")
    if not 0 <= frame.version <= 999:
        raise FrameError(f"protocol version {frame.version} out of range 0..999")
    name = frame.name.encode("ascii", "replace")
    if not _NAME_RE.match(name):
        raise FrameError(f"invalid message name {frame.name!r}")
    parts = [b"P%d" % frame.version, b"%d" % frame.seq, name]
    for key, value in frame.fields.items():
        k = key.encode("ascii", "replace")
        if not _KEY_RE.match(k):
            raise FrameError(f"invalid field name {key!r}")
        try:
            parts.append(k + b"=" + pct_encode(value))
        except UnicodeEncodeError:
            raise FrameError(f"field {key!r} is not encodable as UTF-8") from None
    body = b" ".join(parts)
    return b"~" + body + b"*%08x\n" % crc32(body)


def parse_line(line: bytes) -> list[Event]:
    """Classify one complete line (without its LF). Never raises.

    Console text before a frame marker on the same line (a log line the board did not finish)
    comes out as its own :class:`ConsoleLine` ahead of the frame.
    """
    line = line.rstrip(b"\r")
    # A frame holds no '~' of its own (values escape it), so only the last marker can start a
    # valid frame: noise that happens to contain "~P" must not swallow the frame after it.
    start = line.rfind(MARKER)
    if start < 0:
        return [ConsoleLine(_console_text(line))]
    head = [ConsoleLine(_console_text(line[:start]), True)] if line[:start].strip() else []
    return [*head, _parse_frame(line[start:])]


def _parse_frame(raw: bytes) -> Frame | Rejected:
    star = raw.rfind(b"*")
    if star < 0:
        return Rejected("no CRC", raw)
    body, crc_text = raw[1:star], raw[star + 1 :]
    if not _CRC_RE.match(crc_text):
        return Rejected("malformed CRC", raw)
    if int(crc_text, 16) != crc32(body):
        return Rejected("CRC mismatch", raw)
    parts = body.split(b" ")
    if len(parts) < 3:
        return Rejected("too few tokens", raw)
    version_m = _VERSION_RE.match(parts[0])
    if not version_m or not _SEQ_RE.match(parts[1]) or not _NAME_RE.match(parts[2]):
        return Rejected("malformed header", raw)
    seq = int(parts[1])
    if seq >= SEQ_MODULO:
        return Rejected("sequence number out of range", raw)
    fields: dict[str, str] = {}
    for token in parts[3:]:
        key, eq, value = token.partition(b"=")
        if not eq or not _KEY_RE.match(key):
            return Rejected("malformed field", raw)
        try:
            fields[key.decode("ascii")] = pct_decode(value)
        except ValueError:
            return Rejected("malformed field value", raw)
    name = parts[2].decode("ascii")
    return Frame(seq=seq, name=name, fields=fields, version=int(version_m.group(1)))


def _console_text(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return "".join(c if c.isprintable() or c == "\t" else "\ufffd" for c in text)


@dataclass
class DecoderStats:
    frames: int = 0
    console_lines: int = 0
    rejected: int = 0
    overflows: int = 0


class Decoder:
    """Feed bytes, get events. Memory is bounded by ``max_line``; input never makes it raise.

    A frame ends at the 8th hex digit of its CRC (the LF that follows is then only a separator),
    so a lost LF costs nothing. A frame cut short by an LF or by the next start marker is
    rejected and the decoder resynchronises there. Text longer than ``max_line`` without an LF
    is dropped (one :class:`Rejected`) up to the next LF or start marker.
    """

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 16:
            raise ValueError("max_line must be at least 16 bytes")
        self.max_line = max_line
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._discarding = False
        self._after_frame = False  # a frame ended at its CRC; its LF has not come yet

    def feed(self, data: bytes) -> list[Event]:
        """Events completed by ``data``, in order."""
        out: list[Event] = []
        self._buf += data
        while self._buf and self._step(out):
            pass
        if len(self._buf) > self.max_line:
            self._overflow(out)
        for event in out:
            if isinstance(event, Frame):
                self.stats.frames += 1
            elif isinstance(event, ConsoleLine):
                self.stats.console_lines += 1
            else:
                self.stats.rejected += 1
        return out

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held in the buffer."""
        return len(self._buf)

    def _overflow(self, out: list[Event]) -> None:
        if not self._discarding:
            self.stats.overflows += 1
            out.append(
                Rejected(f"line longer than {self.max_line} bytes", bytes(self._buf[:64]), True)
            )
        self._discarding = True
        # Keep a trailing "~": it may be the first half of the next start marker.
        keep = 1 if self._buf.endswith(b"~") else 0
        del self._buf[: len(self._buf) - keep]

    def _step(self, out: list[Event]) -> bool:
        """Consume one unit from the buffer; False when more bytes are needed."""
        buf = self._buf
        nl = buf.find(b"\n")
        mk = buf.find(MARKER)
        if self._discarding:
            cut = min((i for i in (nl, mk) if i >= 0), default=-1)
            if cut < 0:
                return False
            del buf[: cut + 1 if cut == nl else cut]
            self._discarding = False
            return True
        if mk < 0 or 0 <= nl < mk:
            if nl < 0:
                return False
            line = bytes(buf[:nl]).rstrip(b"\r")
            del buf[: nl + 1]
            tail, self._after_frame = self._after_frame, False
            if len(line) > self.max_line:
                self.stats.overflows += 1
                out.append(Rejected(f"line longer than {self.max_line} bytes", line[:64], True))
            elif line.strip():
                out.append(ConsoleLine(_console_text(line), tail))
            return True
        if mk > 0:
            head = bytes(buf[:mk])
            del buf[:mk]
            self._after_frame = False
            if head.strip():
                out.append(ConsoleLine(_console_text(head.rstrip(b"\r")), True))
            return True
        # A frame candidate starts at 0. It ends 8 bytes after its first "*", or is cut short
        # by an LF or another start marker.
        star = buf.find(b"*", len(MARKER))
        stops = [i for i in (buf.find(b"\n"), buf.find(MARKER, len(MARKER))) if i >= 0]
        limit = min(stops, default=-1)
        if star >= 0 and (limit < 0 or star < limit):
            end = star + 9
            if len(buf) >= end and (limit < 0 or limit >= end):
                raw = bytes(buf[:end])
                del buf[:end]
                self._after_frame = True
                if len(raw) > self.max_line:
                    self.stats.overflows += 1
                    out.append(Rejected(f"frame longer than {self.max_line} bytes", raw[:64], True))
                else:
                    out.append(_parse_frame(raw))
                return True
            if limit < 0:
                return False
        elif limit < 0:
            return False
        raw = bytes(buf[:limit]).rstrip(b"\r")
        del buf[:limit]
        out.append(Rejected("frame cut short", raw))
        return True
