"""The Link's byte pipe (smpclient's shape): a transport moves bytes and nothing else.

Framing, retries and timeouts are the Link's, so a Link runs over a pyserial port
(:mod:`device_protocol.serial_port`), a POSIX descriptor (:mod:`device_protocol.posix_port`) or
anything else with these methods, a scripted line in memory for instance. A transport reports a
vanished line as :class:`~device_protocol.errors.Disconnected` (made ``from`` the OS or pyserial
error, its ``reason`` the port's own words) and a write that cannot complete in time as
:class:`~device_protocol.errors.Timeout`; the Link adds which request the board was answering.
"""

from __future__ import annotations

from typing import Protocol

from device_protocol.errors import Disconnected

#: How long one read waits for bytes unless told otherwise.
POLL = 0.05


class Transport(Protocol):
    """An open line to one board."""

    @property
    def url(self) -> str:
        """What the line is called in every error: a port path or URL."""

    def read(self, wait: float = POLL) -> bytes:
        """What has arrived, waiting for it up to ``wait`` seconds (b"" when nothing did). A
        transport that cannot wait that long returns sooner: its caller reads again."""

    def write(self, data: bytes) -> None:
        """Send all of ``data``."""

    def set_baudrate(self, rate: int) -> None:
        """Move the line to ``rate`` baud (8N1) and discard every byte received so far
        (SPEC.md 7.10: a switch, then nothing from before it counts)."""

    def close(self) -> None:
        """Let the line go; closing twice is harmless."""


def first_line(e: BaseException) -> str:
    """An exception's text as a short reason (its first line, at most 200 characters)."""
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def lost(url: str, e: BaseException) -> Disconnected:
    """The port ``url`` went away under us: ``e`` in the port's own words."""
    reason = first_line(e)
    return Disconnected(url, f"the board disconnected ({reason})", reason=reason)
