"""What a :class:`~device_protocol.link.Link` counts: requests, retries, damaged frames, and the
bytes moved at each line rate, so a bench can compute the wire's physics across a rate switch."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Bits on the wire per byte at 8N1: a start bit, 8 data bits, a stop bit.
BITS_PER_BYTE = 10


@dataclass
class LinkStats:
    requests: int = 0
    retries: int = 0
    resends: int = 0
    keepalives: int = 0
    stale_frames: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    rejected: list[str] = field(default_factory=list)
    #: Bytes (both directions) moved at each line rate, in baud.
    rate_bytes: dict[int, int] = field(default_factory=dict)
    #: Rate switches made (SPEC.md 7.10), fallbacks to the default rate among them.
    switches: int = 0
    fallbacks: int = 0

    def reject(self, reason: str) -> None:
        if len(self.rejected) < 100:
            self.rejected.append(reason)

    def moved(self, rate: int, out: int = 0, into: int = 0) -> None:
        """``out`` bytes sent and ``into`` received at ``rate`` baud."""
        self.bytes_out += out
        self.bytes_in += into
        self.rate_bytes[rate] = self.rate_bytes.get(rate, 0) + out + into

    @property
    def wire_seconds(self) -> float:
        """Seconds the counted bytes take on the wire at the rates they moved at."""
        return sum(n * BITS_PER_BYTE / rate for rate, n in self.rate_bytes.items())
