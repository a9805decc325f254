"""The wire trace: every frame line a :class:`~device_protocol.link.Link` sends (``>``) and
receives (``<``), console text and damaged lines, logged at DEBUG (``station -v`` shows it).

Costs one level check per request and per read when DEBUG is off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from device_protocol.framing import ConsoleLine, Event, Frame, FrameError, encode

log = logging.getLogger(__name__)


def trace_out(port: str, wire: bytes) -> None:
    """A request's frame line, as written to ``port``."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s > %s", port, wire.decode("ascii", "replace").rstrip("\n"))


def trace_in(port: str, events: Iterable[Event]) -> None:
    """What the decoder made of the bytes read from ``port``."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    for event in events:
        if isinstance(event, Frame):
            try:
                text = encode(event).decode("ascii", "replace").rstrip("\n")
            except FrameError:
                text = repr(event)
            log.debug("%s < %s", port, text)
        elif isinstance(event, ConsoleLine):
            log.debug("%s < console | %s", port, event.text)
        else:
            log.debug("%s < damaged (%s): %r", port, event.reason, event.raw[:120])


def trace_note(port: str, text: str) -> None:
    """Something the station did to the line itself (a rate switch), between the frames."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s = %s", port, text)
