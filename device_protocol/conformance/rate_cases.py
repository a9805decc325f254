"""The conformance cases for SPEC.md 1.2's optional features: the line rate (BAUD, 7.10) and the
digest of the stored chain (7.5). A board without ``bauds`` in HELLO, or without ``sha`` on the
final PUT_CERT chunk, passes them trivially (the detail says so): 1.0/1.1 boards stay conformant.
"""

from __future__ import annotations

import hashlib
import time

from device_protocol import messages as m
from device_protocol.conformance.session import CaseFailed, S, Session, expect_err, expect_ok
from device_protocol.errors import LinkError
from device_protocol.rate_switch import (
    FALLBACK_MARGIN,
    PROBATION,
    SWITCH_GAP,
    return_to_default,
    switch_rate,
)

DEFAULT = m.DEFAULT_BAUD


def _hello_at(s: Session, rate: int, why: str) -> None:
    """HELLO (a new request: it confirms a rate on probation) must be answered by this board."""
    try:
        info = s.link.hello()
    except LinkError as e:
        raise CaseFailed(f"{why}: no valid HELLO answer at {rate} baud ({e.detail})") from e
    if info.uid != s.uid:
        raise CaseFailed(f"{why}: HELLO at {rate} baud answered uid {info.uid}, not {s.uid}")


def baud_switch(s: Session) -> str:
    """BAUD to the highest rate, the proof, a confirming request, the rate held past PROBATION,
    BAUD back to the default; refusals of a rate the board does not offer."""
    bauds = s.info().bauds
    if not bauds:
        return "no bauds in HELLO: the board stays at 115200 (nothing to check)"
    rate = max(bauds)
    unknown = next(r for r in range(rate + 1, rate + 100) if r not in bauds)
    expect_err(s.raw.call("BAUD", {"rate": str(unknown)}), S.BAD_REQUEST, f"BAUD rate={unknown}")
    expect_err(s.raw.call("BAUD"), S.BAD_REQUEST, "BAUD without rate")
    try:
        switched = switch_rate(s.link, rate, s.uid)
        if switched.fell_back:
            raise CaseFailed(f"BAUD {rate}: {switched.reason}; both ends fell back to 115200")
        _hello_at(s, rate, "the confirming request")
        time.sleep(PROBATION + FALLBACK_MARGIN)  # confirmed: the board must still be at the rate
        _hello_at(s, rate, f"{PROBATION + FALLBACK_MARGIN:g} s after a confirmed switch")
        back = s.link.call(m.Baud(DEFAULT))
        if back.rate != DEFAULT:
            raise CaseFailed(f"BAUD rate={DEFAULT} answered rate={back.rate}")
        s.link.sleep(SWITCH_GAP)
        s.link.set_rate(DEFAULT)
        _hello_at(s, DEFAULT, "after BAUD back to the default")
    finally:
        return_to_default(s.link)
    return (
        f"BAUD {rate}: proved and confirmed, held past probation, back to 115200 on request; "
        f"rate={unknown} and no rate: BAD_REQUEST"
    )


def baud_fallback(s: Session) -> str:
    """BAUD, then silence: the board is back at the default rate by PROBATION + 0.2 s."""
    bauds = s.info().bauds
    if not bauds:
        return "no bauds in HELLO: the board stays at 115200 (nothing to check)"
    rate = max(bauds)
    ex = s.raw.call("BAUD", {"rate": str(rate)})
    expect_ok(ex, f"BAUD rate={rate}")
    wait = ex.sent_at + PROBATION + FALLBACK_MARGIN - time.monotonic()
    if wait > 0:
        time.sleep(wait)  # the station stays silent: the board must go back on its own
    s.link.set_rate(DEFAULT)  # discards what arrived meanwhile
    _hello_at(s, DEFAULT, f"{PROBATION + FALLBACK_MARGIN:g} s after an unconfirmed BAUD {rate}")
    return f"unconfirmed BAUD {rate}: back at 115200 within {PROBATION:g} s on its own"


def stored_digest(s: Session) -> str:
    """The final PUT_CERT chunk's sha is the SHA-256 of the chain sent, and GET_CERT agrees."""
    if not s.chain:
        raise CaseFailed("no chain from an earlier case")
    stored = s.link.put_cert(s.chain)
    if stored is None:
        return (
            "no sha on the final PUT_CERT chunk: a 1.1 board, read back instead (nothing to check)"
        )
    sent = hashlib.sha256(s.chain).digest()
    if stored != sent:
        raise CaseFailed(
            f"final chunk sha={stored.hex()}, but the chain sent has SHA-256 {sent.hex()}: the "
            "board must compute it over the chain read back from storage"
        )
    frame = expect_ok(s.raw.call("GET_CERT"), "GET_CERT")
    if frame.get("sha") != sent.hex():
        raise CaseFailed(f"GET_CERT sha={frame.get('sha')} disagrees with the final chunk's")
    return "final chunk sha = SHA-256 of the chain sent; GET_CERT's sha agrees"
