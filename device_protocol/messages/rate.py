"""BAUD (SPEC.md 7.10): the station asks the board to move the line to another rate, and the
``bauds`` field of HELLO that says which rates a board can switch to. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

from device_protocol.messages.envelope import Request, Response
from device_protocol.messages.fields import FieldError, integer

#: The rate every line starts at, and returns to (SPEC.md 1, 7.10).
DEFAULT_BAUD = 115200
#: The largest rate a board may announce or a station ask for.
MAX_BAUD = 100_000_000


def parse_bauds(raw: str) -> tuple[int, ...]:
    """HELLO's ``bauds``: comma-separated decimal rates, strictly ascending. Rates up to the
    default are well-formed but never asked for (a station only switches up)."""
    rates: list[int] = []
    for part in raw.split(","):
        if not (part.isascii() and part.isdigit()) or len(part) > 9 or part.startswith("0"):
            raise FieldError(f"field 'bauds'={raw[:80]!r}: {part[:20]!r} is not a decimal rate")
        rate = int(part)
        if rate > MAX_BAUD:
            raise FieldError(f"field 'bauds'={raw[:80]!r}: {rate} is above {MAX_BAUD}")
        if rates and rate <= rates[-1]:
            raise FieldError(f"field 'bauds'={raw[:80]!r}: rates must be strictly ascending")
        rates.append(rate)
    return tuple(rates)


@dataclass(frozen=True)
class RateInfo:
    """BAUD's answer, sent at the old rate: the rate the board switches to next."""

    rate: int

    def to_fields(self) -> dict[str, str]:
        return {"rate": str(self.rate)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(integer(f, "rate", 1, MAX_BAUD))


@dataclass(frozen=True)
class Baud(Request[RateInfo]):
    """BAUD rate=<int>: switch the line to ``rate`` after answering (SPEC.md 7.10)."""

    NAME: ClassVar[str] = "BAUD"
    RESPONSE: ClassVar[type[Response]] = RateInfo
    rate: int = DEFAULT_BAUD

    def to_fields(self) -> dict[str, str]:
        return {"rate": str(self.rate)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(integer(f, "rate", 1, MAX_BAUD))
