"""Chunk sizing for object transfers (SPEC.md: READ, PUT_CERT, inline data). Pure functions.

Both sides size chunks so that a whole frame line, LF included, fits the board's ``mtu``. The
sizing uses the largest sequence number and offset the transfer can carry, so every chunk of an
object has the same size and the arithmetic is the same on the board and the station. Text
chunks (SPEC.md 1.3) are cut by what each byte costs on the wire: 1, or 3 when it is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from device_protocol.framing import SEQ_MODULO, Frame, encode

#: Bytes a value must escape as %XX (SPEC.md 2.1 rule 3): outside 0x21..0x7E, and % * ~.
_ESCAPED_RE = re.compile(rb"[^\x21-\x24\x26-\x29\x2b-\x7d]")
#: What an escaped byte takes in a value.
ESCAPED_COST = 3


def _overhead(name: str, fields: Mapping[str, str]) -> int:
    return len(encode(Frame(seq=SEQ_MODULO - 1, name=name, fields=dict(fields))))


def chunk_capacity(mtu: int, name: str, total: int, extra: dict[str, str] | None = None) -> int:
    """Raw bytes per chunk for a frame ``name off=<n> data=<base64>`` (plus ``extra`` fields)."""
    room = mtu - _overhead(name, {**(extra or {}), "off": str(total), "data": ""})
    capacity = (room // 4) * 3
    if capacity < 1:
        raise ValueError(f"a line limit of {mtu} bytes leaves no room for data in {name}")
    return capacity


def chunks(data: bytes, capacity: int) -> list[tuple[int, bytes]]:
    """``data`` cut into ``(offset, piece)`` pairs of at most ``capacity`` bytes."""
    return [(off, data[off : off + capacity]) for off in range(0, len(data), capacity)]


def inline_capacity(mtu: int, answer: Mapping[str, str]) -> int:
    """Raw bytes of an object that fit inline (``data``) in an ``OK`` answer with the fields
    ``answer`` (``total``, ``sha``, ``alg``) within ``mtu``: 0 when none fit (SPEC.md 7.3)."""
    room = mtu - _overhead("OK", {**answer, "data": ""})
    return max(0, (room // 4) * 3)


def text_chunks(data: bytes, mtu: int, name: str = "PUT_CERT") -> list[tuple[int, bytes]]:
    """``data`` (ASCII) cut into ``(offset, piece)`` pairs whose ``name off=<n> text=<piece>``
    line fits ``mtu`` with any sequence number and offset: greedy over the bytes, each costing
    3 when it must be escaped and 1 otherwise (SPEC.md 7.5). Raises ValueError when ``data``
    is not ASCII (a text value would not carry it byte for byte) or ``mtu`` leaves no room."""
    if not data.isascii():
        raise ValueError("text chunks carry ASCII only (a PEM chain); send data chunks")
    room = mtu - _overhead(name, {"off": str(len(data)), "text": ""})
    if room < ESCAPED_COST:
        raise ValueError(f"a line limit of {mtu} bytes leaves no room for text in {name}")
    escapes = [m.start() for m in _ESCAPED_RE.finditer(data)]
    out: list[tuple[int, bytes]] = []
    off = i = 0
    while off < len(data):
        budget, end = room, off
        while True:
            nxt = escapes[i] if i < len(escapes) else len(data)
            if nxt - end >= budget:  # the plain run fills what is left
                end += budget
                break
            budget -= nxt - end
            end = nxt
            if end == len(data) or budget < ESCAPED_COST:
                break
            end += 1  # the escaped byte
            budget -= ESCAPED_COST
            i += 1
        out.append((off, data[off:end]))
        off = end
    return out
