"""The conformance cases for SPEC.md's framing and sequencing: keep-alives, replay, damaged
lines, line ends and escapes, text sharing a line with a frame, line lengths, console text.
"""

from __future__ import annotations

import hashlib
import itertools

from device_protocol import messages as m
from device_protocol.conformance.cases import keygen_exchange, transfer
from device_protocol.conformance.pki import check_csr
from device_protocol.conformance.session import (
    BUSY_SLACK,
    CaseFailed,
    S,
    Session,
    expect_ok,
    object_info,
    read_raw,
)
from device_protocol.framing import crc32


def keep_alive(s: Session) -> str:
    """KEYGEN of the slowest key type the board offers: BUSY by 0.5 s after the frame's last
    CRC digit (its LF is held back), then at least every 1 s."""
    order = ["rsa-4096", "rsa-3072", "rsa-2048", "ec-p521", "ec-p384", "ec-p256"]
    kt = next((k for k in order if k in s.keys and k != "rsa-4096"), s.keys[0])
    ex, _ = keygen_exchange(s, kt, lf=False)
    took = ex.final_at - ex.sent_at
    if took <= 0.5:
        return f"KEYGEN kt={kt} took {took:.2f} s: no keep-alive needed ({len(ex.busy_at)} BUSY)"
    if not ex.busy_at:
        raise CaseFailed(f"KEYGEN kt={kt} took {took:.2f} s without a single BUSY")
    first = ex.busy_at[0] - ex.sent_at
    if first > 0.5 + BUSY_SLACK:
        raise CaseFailed(f"first BUSY after {first:.2f} s (SPEC.md 4: by 0.5 s)")
    marks = [*ex.busy_at, ex.final_at]
    gap = max(b - a for a, b in itertools.pairwise(marks))
    if gap > 1.0 + BUSY_SLACK:
        raise CaseFailed(f"{gap:.2f} s between keep-alives (SPEC.md 4: at least once per second)")
    return (
        f"KEYGEN kt={kt} took {took:.2f} s: {len(ex.busy_at)} BUSY, "
        f"first at {first:.2f} s, largest gap {gap:.2f} s"
    )


def replay(s: Session) -> str:
    """Same seq and CRC: the cached bytes, not a second execution (a new CSR would differ)."""
    wire = s.raw.frame("GET_CSR")
    first = s.raw.send(wire)
    frame = expect_ok(first, "GET_CSR")
    second = s.raw.send(wire)
    if second.final_frame != first.final_frame:
        raise CaseFailed(
            f"GET_CSR replayed: {second.describe()!r} differs from {first.describe()!r}"
        )
    der = read_raw(s, "csr", object_info(frame, "GET_CSR"))
    check_csr(der, s.uid, s.uid, s.key_type)
    return "GET_CSR sent twice with one seq: identical answers; the CSR read matches the first"


def bad_crc(s: Session) -> str:
    """Damaged requests get NAK (seq 0) or silence, never an answer; KEYGEN would drop the CSR."""
    wire = s.raw.frame("KEYGEN", {"kt": s.key_type})
    seq = int(wire.split(b" ")[1])
    star = wire.rindex(b"*")
    digit = wire[star + 1 : star + 2]
    damaged = {
        "CRC digit changed": wire[: star + 1]
        + (b"0" if digit != b"0" else b"1")
        + wire[star + 2 :],
        "body byte flipped": wire.replace(b"KEYGEN", b"KEYGEM"),
        "cut short": wire[:star] + b"\n",
        "no marker": b"KEYGEN kt=" + s.key_type.encode() + b"\n",
        "lower-case p marker": b"~p" + wire[2:],
        "longer than mtu": b"~P1 "
        + str(seq).encode()
        + b" KEYGEN x="
        + b"A" * s.mtu
        + b"*00000000\n",
    }
    naks = 0
    for what, bad in damaged.items():
        s.raw.drain(0)
        s.port.write(bad)
        for line in s.raw.listen(0.5):
            f = line.frame
            if f is not None and f.seq == seq and f.name in (m.OK, m.ERR, m.BUSY):
                raise CaseFailed(f"{what}: the board acted on a damaged frame ({line.raw[:80]!r})")
            naks += f is not None and f.name == m.NAK and f.seq == 0 and not f.fields
    expect_ok(s.raw.call("READ", {"obj": "csr", "off": "0"}), "READ csr after damaged KEYGENs")
    expect_ok(s.raw.call("HELLO", {"v": "1"}), "HELLO after damaged lines")
    return (
        f"{len(damaged)} damaged lines: {naks} NAK, {len(damaged) - naks} unanswered, none acted on"
    )


def framing(s: Session) -> str:
    """CR LF line ends, upper-case CRC, lower-case escapes and unknown fields, a frame whose LF
    comes late (a frame ends at its 8th CRC digit), fields in another order, and text sharing
    the line with a frame (before its marker, after its CRC), which is not NAKed."""
    crlf = s.raw.frame("HELLO", {"v": "1"})
    expect_ok(s.raw.send(crlf[:-1] + b"\r\n"), "HELLO ended by CR LF")
    upper = s.raw.frame("HELLO", {"v": "1"})
    star = upper.rindex(b"*")
    expect_ok(s.raw.send(upper[:star] + upper[star:].upper()), "HELLO with an upper-case CRC")
    body = b"P1 %d HELLO v=1 zz=%%7e%%25%%2a" % s.raw.next_seq()
    lower = b"~" + body + b"*%08x\n" % crc32(body)
    expect_ok(s.raw.send(lower), "HELLO with an unknown field holding lower-case escapes")
    late = s.raw.frame("HELLO", {"v": "1"})
    expect_ok(s.raw.send(late[:-1]), "HELLO whose LF has not arrived")
    s.port.write(b"\n")
    if any(line.frame and line.frame.name == m.NAK for line in s.raw.listen(0.3)):
        raise CaseFailed("the LF after a complete frame was answered with NAK (an empty line)")
    swapped = s.raw.next_seq()
    body = b"P1 %d READ off=0 obj=csr" % swapped
    expect_ok(s.raw.send(b"~" + body + b"*%08x\n" % crc32(body)), "READ with off before obj")
    for what, prefix, suffix in (
        ("text before the marker", b"noise ", b"\n"),
        ("bytes after the CRC", b"", b" trailing\n"),
    ):
        frame = s.raw.frame("HELLO", {"v": "1"})
        ex = s.raw.send(prefix + frame[:-1] + suffix, seq=int(frame.split(b" ")[1]))
        expect_ok(ex, f"HELLO with {what}")
        naks = ex.naks + sum(
            1 for line in s.raw.listen(0.3) if line.frame and line.frame.name == m.NAK
        )
        if naks:
            raise CaseFailed(f"HELLO with {what} was answered, and also NAKed (SPEC.md 2.4)")
    return (
        "CR LF, upper-case CRC, %7e and unknown field, frame complete at its CRC, fields in "
        "another order: all answered; text before a frame and after its CRC: not NAKed"
    )


def hello_clears_cache(s: Session) -> str:
    """SPEC.md 3.8: HELLO runs afresh and empties the replay cache, so a request from before it
    (a previous session's last one) is never answered from the cache after it. Run afresh, a
    final PUT_CERT chunk whose transfer is over is BAD_STATE; from the cache it is OK done=1."""
    ex, wire = transfer(s, hashlib.sha256(s.chain).digest(), probe_offsets=False)
    expect_ok(ex, "final PUT_CERT chunk")
    expect_ok(s.raw.call("HELLO", {"v": "1"}), "HELLO")
    again = s.raw.send(wire)
    if again.status != S.BAD_STATE:
        raise CaseFailed(
            f"the final PUT_CERT chunk sent again after HELLO was answered {again.describe()!r}, "
            "not BAD_STATE (no transfer in progress): a request from before HELLO was "
            "answered from the replay cache (SPEC.md 3.8: HELLO empties it)"
        )
    return "a final PUT_CERT chunk repeated after HELLO ran afresh (BAD_STATE), not replayed"


def line_length(s: Session) -> str:
    frames = [line for line in s.port.lines if line.frame_bytes]
    longest = max((line.frame_bytes for line in frames), default=0)
    if longest > s.mtu:
        worst = next(line for line in frames if line.frame_bytes == longest)
        raise CaseFailed(
            f"the board sent a {longest}-byte frame line (LF included), mtu={s.mtu}: "
            f"{worst.raw[:60]!r}..."
        )
    return f"{len(frames)} frame lines, longest {longest} bytes <= mtu {s.mtu}"


def console(s: Session) -> str:
    damaged = [line for line in s.port.lines if line.damaged]
    if damaged:
        raise CaseFailed(
            f"{len(damaged)} damaged frame lines from the board, e.g. {damaged[0].raw[:80]!r}: "
            "a frame line is written as one unit, and console text MUST NOT hold '~P' "
            "(SPEC.md 2.3)"
        )
    text = sum(1 for line in s.port.lines if line.frame is None)
    return f"{text} console lines between frames; every frame intact"
