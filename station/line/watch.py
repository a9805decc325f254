"""Looking for boards on a slot: a port appears, and HELLO answers. Blocking; run in a thread.

A probe holds the slot's lock while it has the port open, and a cycle holds it for its whole
run, so the two never fight over one (exclusively opened) port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from device_protocol import Link, LinkError
from device_protocol.messages import HelloInfo
from station.jig import PortSource
from station.line.slot import BoardSeen, SlotVacant

Probe = Callable[[str], HelloInfo | None]
PROBE_TIMEOUT = 0.4


def hello_probe(port: str) -> HelloInfo | None:
    """HELLO once on ``port``, briefly; None when nothing (sane) answers."""
    try:
        with Link.open_url(port, timeout=PROBE_TIMEOUT, retries=0, resends=2) as link:
            return link.hello()
    except (LinkError, OSError, ValueError):
        return None


def watch_slot(
    slot: str,
    source: PortSource,
    *,
    lock: threading.Lock,
    stop: threading.Event,
    known_uid: str | None = None,
    on_vacant: Callable[[SlotVacant], None] = lambda v: None,
    probe: Probe = hello_probe,
    interval: float = 0.5,
) -> BoardSeen | None:
    """Wait for a board other than ``known_uid`` to answer on ``slot``; None once stopped.

    ``known_uid`` is the board that just finished here: while it stays, nothing happens. Once
    the slot goes quiet it is forgotten, so a board taken out and put back counts as arriving.
    ``on_vacant`` hears each change to "nothing answers" (not every poll).
    """
    last: SlotVacant | None = None
    while not stop.is_set():
        port = source.port(slot)
        info = None
        if port is not None:
            with lock:
                if stop.is_set():
                    return None
                info = probe(port)
        if info is not None and port is not None:
            if info.uid != known_uid:
                return BoardSeen(slot, port, info.uid, info.state.value, info.model, info.firmware)
        else:
            known_uid = None
            vacant = SlotVacant(slot, port)
            if vacant != last:
                on_vacant(vacant)
                last = vacant
        stop.wait(interval)
    return None
