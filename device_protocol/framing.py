"""Sans-I/O framing: bytes in, frames and console lines out; frames in, bytes out.

No clock, no port. The grammar is in SPEC.md section 2. The decoder never raises on input: what is
not a valid frame becomes console text or a counted rejection, and the next valid frame is found.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from device_protocol.escapes import needs_no_escape, pct_decode, pct_encode

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
#: A frame with nothing to unescape and no "*" in a value, in one match: the header, the fields
#: (a value of safe bytes only) and the CRC. Every other line goes the token by token way.
_PLAIN_FRAME_RE = re.compile(
    rb"~P([0-9]{1,3}) ([0-9]{1,5}) ([A-Z][A-Z0-9_]{0,15})"
    rb"((?: [a-z][a-z0-9_]{0,15}=[!-$&-)+-}]*)*)\*([0-9A-Fa-f]{8})\Z"
)
#: Message and field names that passed their grammar check (:func:`encode` checks each once).
_NAMES_SEEN: set[str] = set()
_KEYS_SEEN: set[str] = set()


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (the zlib/Ethernet CRC): check value of b"123456789" is 0xCBF43926."""
    return zlib.crc32(data) & 0xFFFFFFFF


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
    seq, version, name = frame.seq, frame.version, frame.name
    if not 0 <= seq < SEQ_MODULO:
        raise FrameError(f"sequence number {seq} out of range 0..65535")
    if not 0 <= version <= 999:
        raise FrameError(f"protocol version {version} out of range 0..999")
    if name not in _NAMES_SEEN:
        if not _NAME_RE.match(name.encode("ascii", "replace")):
            raise FrameError(f"invalid message name {name!r}")
        _remember(_NAMES_SEEN, name)
    # Built as text: an escaped value is ASCII, and so is every name that passed its check.
    text = f"P{version} {seq} {name}"
    for key, value in frame.fields.items():
        if key not in _KEYS_SEEN:
            if not _KEY_RE.match(key.encode("ascii", "replace")):
                raise FrameError(f"invalid field name {key!r}")
            _remember(_KEYS_SEEN, key)
        if not needs_no_escape(value):
            try:
                value = pct_encode(value).decode("ascii")
            except UnicodeEncodeError:
                raise FrameError(f"field {key!r} is not encodable as UTF-8") from None
        text += f" {key}={value}"
    body = text.encode("ascii")
    return b"~%s*%08x\n" % (body, zlib.crc32(body))


def _remember(seen: set[str], name: str) -> None:
    """Note a name that passed its check (bounded: a peer inventing names cannot grow it)."""
    if len(seen) < 256:
        seen.add(name)


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
    plain = _PLAIN_FRAME_RE.match(raw)
    if plain is not None:  # one match instead of a check per token
        version, seq_text, name, tokens, crc_text = plain.groups()
        body = raw[1 : plain.start(5) - 1]
        seq = int(seq_text)
        if int(crc_text, 16) == zlib.crc32(body) and seq < SEQ_MODULO:
            fields: dict[str, str] = {}
            for token in tokens.split(b" ")[1:]:
                key, _, value = token.partition(b"=")
                fields[key.decode("ascii")] = value.decode("ascii")
            return Frame(seq=seq, name=name.decode("ascii"), fields=fields, version=int(version))
    # Anything else (escapes, bad CRCs, any other fault) the token by token way, which also
    # names the fault.
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
    fields = {}
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
        if not self._buf and not self._discarding:
            frame = self._lone_frame(data)
            if isinstance(frame, Frame):
                self.stats.frames += 1
                return [frame]
            if frame is not None:
                self.stats.rejected += 1
                return [frame]
        elif self._more_of_a_frame(data):
            self._buf += data  # a frame's middle, as a paced line delivers it: nothing ends
            return []
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

    def _more_of_a_frame(self, data: bytes) -> bool:
        """Whether ``data`` only carries on the frame begun in the buffer, finishing nothing:
        no CRC star (in the buffer either), no LF, no start marker (nor the second half of one
        begun at the buffer's end), and within ``max_line``. :meth:`_step` would consume none
        of it."""
        buf = self._buf
        return (
            not self._discarding
            and len(buf) + len(data) <= self.max_line
            and buf.startswith(MARKER)
            and not buf.endswith(b"~")
            and b"*" not in buf
            and b"\n" not in data
            and b"~" not in data
            and b"*" not in data
        )

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
        if not self._discarding and buf.startswith(MARKER) and self._whole_frame(out):
            return True
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
        # by an LF or another start marker (_whole_frame took the frames that end).
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

    def _lone_frame(self, data: bytes) -> Frame | Rejected | None:
        """What :meth:`feed` makes of ``data`` into an empty buffer when it is exactly one
        frame line and its LF (a board's answer, read whole), without copying it through the
        buffer; None for anything else."""
        star = data.find(b"*", len(MARKER))
        end = star + 9
        if (
            star < 0
            or len(data) != end + 1
            or end > self.max_line
            or not data.startswith(MARKER)
            or data.find(b"\n", 0, end) >= 0
            or data.find(MARKER, len(MARKER)) >= 0
            or data[end] != 0x0A
        ):
            return None
        self._after_frame = False
        return _parse_frame(data[:end])

    def _whole_frame(self, out: list[Event]) -> bool:
        """The common case of the frame candidate at 0, in fewer steps: the whole frame is in
        the buffer, neither an LF nor another start marker before its CRC's end. Takes the LF
        that follows, if it is there. False (nothing consumed) in every other case."""
        buf = self._buf
        star = buf.find(b"*", len(MARKER))
        end = star + 9
        if star < 0 or len(buf) < end or buf.find(b"\n", 0, end) >= 0:
            return False
        if buf.find(MARKER, len(MARKER), end + 1) >= 0:
            return False
        raw = bytes(buf[:end])
        if buf[end : end + 1] == b"\n":  # the separator: nothing of the line is left
            del buf[: end + 1]
            self._after_frame = False
        else:
            del buf[:end]
            self._after_frame = True
        if end > self.max_line:
            self.stats.overflows += 1
            out.append(Rejected(f"frame longer than {self.max_line} bytes", raw[:64], True))
        else:
            out.append(_parse_frame(raw))
        return True
