"""%XX escapes of field values (SPEC.md 2.2): which bytes a value carries as they are, and the
escaping of the rest. Pure."""

from __future__ import annotations

import re

#: Bytes a value may carry as they are; anything else is written %XX.
SAFE = frozenset(range(0x21, 0x7F)) - {ord("%"), ord("*"), ord("~")}
_UNSAFE_RE = re.compile(b"[^" + b"".join(re.escape(bytes([c])) for c in sorted(SAFE)) + b"]")
#: An ASCII value that needs no escape, as text (the encoder's fast path).
_SAFE_TEXT_RE = re.compile(r"[^%*~\x00-\x20\x7f]*")
#: The byte each two hex digits after a "%" stand for, in either case.
_PCT_PAIRS = {
    bytes((a, b)): bytes((int(bytes((a, b)), 16),))
    for a in b"0123456789ABCDEFabcdef"
    for b in b"0123456789ABCDEFabcdef"
}


def needs_no_escape(value: str) -> bool:
    """Whether ``value`` goes on the wire as it is (ASCII, every byte in :data:`SAFE`)."""
    return value.isascii() and _SAFE_TEXT_RE.fullmatch(value) is not None


def pct_encode(value: str) -> bytes:
    raw = value.encode("utf-8")
    if not _UNSAFE_RE.search(raw):
        return raw  # the common case (numbers, tokens, base64): nothing to escape
    return _UNSAFE_RE.sub(lambda m: b"%%%02X" % m.group()[0], raw)


def pct_decode(raw: bytes) -> str:
    """Decode %XX escapes; raises ValueError on a broken escape or invalid UTF-8."""
    if b"%" not in raw:
        return raw.decode("ascii")
    # One step per escape, not per byte: each piece after a "%" starts with its two hex digits.
    head, *pieces = raw.split(b"%")
    out = [head]
    for piece in pieces:
        byte = _PCT_PAIRS.get(piece[:2])
        if byte is None:
            raise ValueError("broken %-escape")
        out += (byte, piece[2:])
    return b"".join(out).decode("utf-8")
