"""What every request shares: the kinds of answer (OK, ERR, BUSY, and the board's NAK), ERR's
status table, BUSY's progress, the size limits, and the request base class that names its
response type."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from device_protocol.messages.fields import integer

OK = "OK"
ERR = "ERR"
BUSY = "BUSY"
#: Sent by the board, with sequence number 0, for a line that looked like a frame but was damaged.
NAK = "NAK"

#: Smallest line length a board may state in HELLO (SPEC.md 2.4).
MIN_MTU = 128
#: Largest object a board must accept or the station will move (CSR, chain, signature).
MAX_OBJECT = 65536


class Status(enum.IntEnum):
    """Status codes carried by ERR (SPEC.md section 5)."""

    UNSUPPORTED = 1
    BAD_REQUEST = 2
    BAD_VERSION = 3
    BAD_STATE = 4
    LOCKED = 5
    UNSUPPORTED_KEY = 6
    KEYGEN_FAILED = 7
    BAD_OFFSET = 8
    DIGEST_MISMATCH = 9
    TOO_LARGE = 10
    STORAGE_FAILED = 11
    NO_OBJECT = 12
    INTERNAL = 13


def status_name(code: int) -> str:
    try:
        return Status(code).name
    except ValueError:
        return f"STATUS_{code}"


@dataclass(frozen=True)
class Progress:
    """A BUSY keep-alive: the board is working on the request with this sequence number."""

    pct: int | None = None
    text: str = ""

    def to_fields(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.pct is not None:
            out["pct"] = str(self.pct)
        if self.text:
            out["msg"] = self.text
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        pct = f.get("pct", "")
        valid = pct.isascii() and pct.isdigit() and len(pct) <= 3
        return cls(int(pct) if valid else None, f.get("msg", ""))


@dataclass(frozen=True)
class Failure:
    """An ERR answer."""

    status: int
    text: str = ""

    def to_fields(self) -> dict[str, str]:
        return {"code": str(self.status), "msg": self.text}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(integer(f, "code", 0, 9999), f.get("msg", "")[:200])


R = TypeVar("R")


class Response(Protocol):
    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Any: ...


class Request(Generic[R]):
    """A station -> board message. Subclasses are frozen dataclasses naming their response type."""

    NAME: ClassVar[str]
    RESPONSE: ClassVar[type[Response]]

    def to_fields(self) -> dict[str, str]:
        return {}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls()

    def parse_response(self, f: Mapping[str, str]) -> R:
        parsed: R = self.RESPONSE.from_fields(f)
        return parsed
