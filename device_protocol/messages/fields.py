"""Field parsing shared by every message: each parser raises :class:`FieldError` naming the
field, which a board turns into ``ERR BAD_REQUEST`` and a station into a ProtocolError."""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Mapping


class FieldError(ValueError):
    """A field is missing or does not parse."""


_HEX64_RE = re.compile(r"[0-9a-f]{64}\Z")


def required(fields: Mapping[str, str], key: str) -> str:
    """The field ``key``, present."""
    try:
        return fields[key]
    except KeyError:
        raise FieldError(f"missing field {key!r}") from None


def integer(fields: Mapping[str, str], key: str, lo: int = 0, hi: int = 2**31) -> int:
    """The field ``key`` as a decimal integer within ``lo``..``hi``."""
    raw = required(fields, key)
    # isascii(): str.isdigit() also accepts digits such as '²' (int() raises) and '٣' (int() = 3).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise FieldError(f"field {key!r} is not a decimal integer")
    value = int(raw)
    if not lo <= value <= hi:
        raise FieldError(f"field {key!r}={value} outside {lo}..{hi}")
    return value


def base64_field(fields: Mapping[str, str], key: str) -> bytes:
    """The field ``key``, base64-decoded (strictly)."""
    raw = required(fields, key)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII text
        raise FieldError(f"field {key!r} is not valid base64") from None


def sha256_field(fields: Mapping[str, str], key: str = "sha") -> bytes:
    """The field ``key``: a SHA-256 in 64 lowercase hex digits."""
    raw = required(fields, key)
    if not _HEX64_RE.match(raw):
        raise FieldError(f"field {key!r} is not 64 lowercase hex digits")
    return bytes.fromhex(raw)


def one_of(fields: Mapping[str, str], key: str, kind: type[enum.StrEnum]) -> str:
    """The field ``key``, one of the values of ``kind``."""
    raw = required(fields, key)
    if raw not in kind._value2member_map_:
        allowed = ", ".join(sorted(kind._value2member_map_))
        raise FieldError(f"field {key!r}={raw!r} is not one of {allowed}")
    return raw


def b64(data: bytes) -> str:
    """``data`` as a base64 field value."""
    return base64.b64encode(data).decode("ascii")
