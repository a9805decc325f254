"""Chunk sizing for object transfers (SPEC.md: READ and PUT_CERT). Pure functions.

Both sides size chunks so that a whole frame line, LF included, fits the board's ``mtu``. The
sizing uses the largest sequence number and offset the transfer can carry, so every chunk of an
object has the same size and the arithmetic is the same on the board and the station.
"""

from __future__ import annotations

from device_protocol.framing import SEQ_MODULO, Frame, encode


def chunk_capacity(mtu: int, name: str, total: int, extra: dict[str, str] | None = None) -> int:
    """Raw bytes per chunk for a frame ``name off=<n> data=<base64>`` (plus ``extra`` fields)."""
    fields = {**(extra or {}), "off": str(total), "data": ""}
    overhead = len(encode(Frame(seq=SEQ_MODULO - 1, name=name, fields=fields)))
    room = mtu - overhead
    capacity = (room // 4) * 3
    if capacity < 1:
        raise ValueError(f"a line limit of {mtu} bytes leaves no room for data in {name}")
    return capacity


def chunks(data: bytes, capacity: int) -> list[tuple[int, bytes]]:
    """``data`` cut into ``(offset, piece)`` pairs of at most ``capacity`` bytes."""
    return [(off, data[off : off + capacity]) for off in range(0, len(data), capacity)]
