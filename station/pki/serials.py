"""Certificate serial numbers: 159-bit positive integers from the operating system's CSPRNG.

159 bits keep the DER INTEGER within RFC 5280's 20 octets (no sign octet is ever needed) and
give far more than the 64 random bits the CA/Browser Forum asks for.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

#: A serial source: called once per certificate, returns a fresh positive serial.
SerialSource = Callable[[], int]

SERIAL_BITS = 159


def random_serial() -> int:
    """Return a random positive serial of at most 159 bits (never 0)."""
    while True:
        serial = secrets.randbits(SERIAL_BITS)
        if serial:
            return serial


def serial_hex(serial: int) -> str:
    """The canonical text form of a serial: lower-case hex, no prefix, no leading zeros."""
    return format(serial, "x")


def parse_serial(text: str) -> int:
    """Parse a serial typed by a user: hex, with or without ``0x`` and ``:`` separators."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    if not cleaned:
        raise ValueError("empty serial number")
    return int(cleaned, 16)
