"""The station's side of a rate switch (SPEC.md 7.10): BAUD, the proof HELLO at the new rate,
the fallback to the default rate when either fails, and the RETURN when the station is done.

The order, with the names SPEC.md uses for the timings:

1. ``BAUD rate=R`` at the default rate, sent once (re-sent only after a clean NAK: the board did
   not act on it). Its ``OK`` comes at the old rate; then the board switches.
2. SWITCH_GAP after that ``OK`` the station switches its port and discards its input.
3. PROOF: ``HELLO`` at R, at most PROOF_TRANSMISSIONS sends, PROOF_TIMEOUT each, answered with
   the same uid. The board confirms R on the next request that is not a repeat of that HELLO.
4. FALLBACK when 1 or 3 fails: the port back to the default rate, a wait until PROBATION +
   FALLBACK_MARGIN after BAUD last went out (the board has gone back on its own by then), input
   discarded, and ``HELLO`` at the default rate with the ordinary timeouts.
5. RETURN: ``BAUD rate=115200`` once, best effort; then the port back to the default rate at
   once (this link sends nothing more), where the slot's watcher looks for boards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass

from device_protocol import messages as m
from device_protocol.errors import DeviceError, LinkError, ProtocolError, Timeout
from device_protocol.link import Link

DEFAULT_BAUD = m.DEFAULT_BAUD
#: Seconds the station waits after BAUD's OK before it switches its port and sends.
SWITCH_GAP = 0.020
#: Seconds after the last byte of its OK by which the board receives at the new rate.
BOARD_SWITCH_WITHIN = 0.010
#: The proof HELLO at the new rate: seconds per transmission, and transmissions.
PROOF_TIMEOUT = 0.25
PROOF_TRANSMISSIONS = 2
#: Seconds from its switch within which a board must see the new rate confirmed.
PROBATION = 2.0
#: The station's margin past PROBATION before it speaks at the default rate again.
FALLBACK_MARGIN = 0.2
#: Seconds without a valid frame after which an idle board at a negotiated rate goes back.
IDLE = 5.0
#: Seconds the RETURN's BAUD waits for its answer (one try).
RETURN_TIMEOUT = 0.25
#: Rates serial drivers and USB-UART bridges offer from the default up: what a station's
#: ``max_baud`` may name.
STANDARD_RATES = (
    115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
    2500000, 3000000, 3500000, 4000000,
)  # fmt: skip


@dataclass(frozen=True)
class Switched:
    """How a switch went: the rate asked for, the rate the line runs at now, and why it fell
    back (empty when it did not)."""

    asked: int
    rate: int
    reason: str = ""

    @property
    def fell_back(self) -> bool:
        return self.rate != self.asked


def choose_rate(bauds: Collection[int], max_baud: int, failed: Collection[int] = ()) -> int | None:
    """The highest rate the board announced within ``max_baud`` and not ``failed`` before
    with it; None: stay at the default rate."""
    usable = [r for r in bauds if DEFAULT_BAUD < r <= max_baud and r not in failed]
    return max(usable, default=None)


def switch_rate(link: Link, rate: int, uid: str) -> Switched:
    """Move the board ``uid`` and this end of ``link`` to ``rate``, or, when that fails, back
    to the default rate. Raises only when the board is gone, or another answers after the
    fallback."""
    try:
        answer = link.call(m.Baud(rate), retries=0, resend_damaged=False)
    except DeviceError as e:  # answered at the old rate: the board did not switch
        return Switched(rate, link.rate, f"the board refused BAUD {rate} ({e.detail})")
    except (Timeout, ProtocolError) as e:  # it may have switched: wait out its probation
        return _fall_back(link, rate, uid, f"BAUD {rate} got no valid answer ({e.detail})")
    if answer.rate != rate:
        return _fall_back(link, rate, uid, f"BAUD {rate} was answered rate={answer.rate}")
    link.sleep(SWITCH_GAP)
    link.set_rate(rate)
    try:
        info = link.call(m.Hello(), timeout=PROOF_TIMEOUT, transmissions=PROOF_TRANSMISSIONS)
    except (Timeout, ProtocolError, DeviceError) as e:
        return _fall_back(link, rate, uid, f"no valid HELLO answer at {rate} baud ({e.detail})")
    if info.uid != uid:
        return _fall_back(link, rate, uid, f"at {rate} baud the board reports uid {info.uid}")
    link.stats.switches += 1
    return Switched(rate, rate)


def _fall_back(link: Link, rate: int, uid: str, reason: str) -> Switched:
    link.stats.fallbacks += 1
    link.set_rate(DEFAULT_BAUD)
    wait = link.sent_at + PROBATION + FALLBACK_MARGIN - link.clock()
    if wait > 0:
        link.sleep(wait)
    link.set_rate(DEFAULT_BAUD)  # what arrived while the board was still at the other rate
    info = link.call(m.Hello())
    if info.uid != uid:
        raise ProtocolError(
            link.url,
            f"after falling back from {rate} baud the board reports uid {info.uid}, not {uid}: "
            "was the board swapped? Reseat it and retry",
        )
    return Switched(rate, DEFAULT_BAUD, reason)


def return_to_default(link: Link) -> None:
    """RETURN: ask the board back to the default rate (once, best effort) and put this end of
    the line there, so the slot's watcher finds the board. Never raises."""
    if link.rate == DEFAULT_BAUD:
        return
    with contextlib.suppress(LinkError):
        link.call(m.Baud(DEFAULT_BAUD), timeout=RETURN_TIMEOUT, retries=0, transmissions=1)
    # No SWITCH_GAP here: this link sends nothing more. Whoever speaks to the board next (the
    # slot's watcher, a new cycle) opens the port afresh, later than the board's 10 ms.
    with contextlib.suppress(LinkError):  # a closed or vanished port: nothing to switch
        link.set_rate(DEFAULT_BAUD)
