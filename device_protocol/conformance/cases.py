"""The conformance cases of SPEC.md, run in order against one board (which they key and lock).

Each case takes the :class:`Session` and returns a one-line detail, or raises :class:`CaseFailed`.
Cases build on each other (KEYGEN before GET_CSR, a committed chain before LOCK), like the
provisioning cycle; a failed case leaves later ones to fail with their own reason.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from device_protocol import messages as m
from device_protocol.conformance.pki import (
    CsrProblem,
    PublicKey,
    check_csr,
    throwaway_chain,
)
from device_protocol.conformance.wire import Exchange, RawClient, TappedPort
from device_protocol.framing import Frame, crc32, encode
from device_protocol.link import Link
from device_protocol.signatures import verify_sha256
from device_protocol.transfer import chunk_capacity, chunks

S = m.Status
#: Scheduling slack allowed on top of SPEC.md's keep-alive times (0.5 s, then every 1 s).
BUSY_SLACK = 0.3


class CaseFailed(Exception):
    """A conformance case found the board off the contract; the text says where."""


@dataclass
class Session:
    """What the cases share: the line, and what the board told us so far."""

    port: TappedPort
    raw: RawClient
    link: Link
    mtu: int = m.MIN_MTU
    uid: str = ""
    keys: tuple[str, ...] = ()
    blank: bool = False
    key_type: str = ""
    csr_key: PublicKey | None = None
    chain: bytes = b""
    notes: list[str] = field(default_factory=list)

    def key(self) -> PublicKey:
        if self.csr_key is None:
            raise CaseFailed("no CSR key from an earlier case")
        return self.csr_key


def _ok(ex: Exchange, what: str) -> Frame:
    if ex.final is None or ex.final.name != m.OK:
        raise CaseFailed(f"{what}: expected OK, got {ex.describe()}")
    return ex.final


def _err(ex: Exchange, status: S, what: str) -> None:
    if ex.status != status:
        raise CaseFailed(
            f"{what}: expected ERR code={int(status)} ({status.name}), got {ex.describe()}"
        )


def _fields(frame: Frame, cls: type[m.ObjectInfo] | type[m.Accepted] | type[m.Chunk], what: str):  # type: ignore[no-untyped-def]
    try:
        return cls.from_fields(frame.fields)
    except m.FieldError as e:
        raise CaseFailed(f"{what}: {e}") from e


def _read(s: Session, obj: str, info: m.ObjectInfo) -> bytes:
    """READ an object chunk by chunk (raw frames), checking echoes and the SHA-256."""
    data = bytearray()
    while len(data) < info.total:
        frame = _ok(s.raw.call("READ", {"obj": obj, "off": str(len(data))}), f"READ {obj}")
        chunk: m.Chunk = _fields(frame, m.Chunk, f"READ {obj}")
        if chunk.off != len(data) or not chunk.data:
            raise CaseFailed(
                f"READ {obj} at {len(data)}: answer off={chunk.off}, {len(chunk.data)} bytes"
            )
        data += chunk.data
    if len(data) != info.total or hashlib.sha256(data).digest() != info.sha256:
        raise CaseFailed(f"READ {obj}: {len(data)} bytes do not match total/sha")
    return bytes(data)


# ---- cases ---------------------------------------------------------------------------------------


def hello(s: Session) -> str:
    info = s.link.hello()
    if info.version != 1:
        raise CaseFailed(f"v={info.version}, expected 1")
    if not info.key_types:
        raise CaseFailed("keys is empty")
    s.mtu, s.uid, s.keys = info.mtu, info.uid, info.key_types
    s.blank = info.state is m.BoardState.BLANK
    if info.state is m.BoardState.LOCKED:
        raise CaseFailed("the board is already locked; the suite needs a blank (or unlocked) board")
    keys = ",".join(info.key_types)
    return f"uid={info.uid} fw={info.firmware} mtu={info.mtu} keys={keys} state={info.state.value}"


def bad_version(s: Session) -> str:
    ex = s.raw.send(s.raw.frame("GET_CERT", version=2))
    _err(ex, S.BAD_VERSION, "P2 GET_CERT")
    if ex.final is not None and ex.final.version != 1:
        raise CaseFailed(f"BAD_VERSION answer framed as P{ex.final.version}, expected P1")
    return "P2 frame answered ERR code=3 framed as P1"


def unsupported(s: Session) -> str:
    _err(s.raw.call("REBOOT"), S.UNSUPPORTED, "REBOOT")
    return "unknown message REBOOT answered UNSUPPORTED"


def bad_request(s: Session) -> str:
    _err(s.raw.call("SIGN", {"ch": m.b64(b"short")}), S.BAD_REQUEST, "SIGN with a 5-byte challenge")
    _err(s.raw.call("READ", {"obj": "csr"}), S.BAD_REQUEST, "READ without off")
    _err(s.raw.call("KEYGEN"), S.BAD_REQUEST, "KEYGEN without kt")
    return "short challenge, missing off, missing kt: BAD_REQUEST"


def blank_state(s: Session) -> str:
    if not s.blank:
        raise CaseFailed("the board was not blank at the start; run the suite on a blank board")
    _err(s.raw.call("GET_CSR"), S.BAD_STATE, "GET_CSR before KEYGEN")
    _err(s.raw.call("SIGN", {"ch": m.b64(bytes(32))}), S.BAD_STATE, "SIGN before KEYGEN")
    _err(
        s.raw.call("PUT_CERT", {"total": "10", "sha": "0" * 64}),
        S.BAD_STATE,
        "PUT_CERT before KEYGEN",
    )
    _err(s.raw.call("LOCK"), S.BAD_STATE, "LOCK on a blank board")
    _err(s.raw.call("READ", {"obj": "csr", "off": "0"}), S.NO_OBJECT, "READ csr on a blank board")
    return "GET_CSR, SIGN, PUT_CERT, LOCK refused with BAD_STATE; READ with NO_OBJECT"


def unsupported_key(s: Session) -> str:
    kt = next((k.value for k in m.KeyType if k.value not in s.keys), "rsa-1024")
    _err(s.raw.call("KEYGEN", {"kt": kt}), S.UNSUPPORTED_KEY, f"KEYGEN kt={kt}")
    _err(s.raw.call("KEYGEN", {"kt": "dsa-512"}), S.UNSUPPORTED_KEY, "KEYGEN kt=dsa-512")
    return f"kt={kt} and kt=dsa-512 answered UNSUPPORTED_KEY"


def _keygen(s: Session, kt: str) -> tuple[Exchange, bytes]:
    wire = s.raw.frame("KEYGEN", {"kt": kt})
    ex = s.raw.send(wire, timeout=max(s.raw.timeout, 5.0))
    frame = _ok(ex, f"KEYGEN kt={kt}")
    if frame.get("kt") != kt:
        raise CaseFailed(f"KEYGEN kt={kt} answered kt={frame.get('kt')}")
    return ex, wire


def keep_alive(s: Session) -> str:
    """KEYGEN of the slowest key type the board offers: BUSY by 0.5 s, then at least every 1 s."""
    order = ["rsa-4096", "rsa-3072", "rsa-2048", "ec-p521", "ec-p384", "ec-p256"]
    kt = next((k for k in order if k in s.keys and k != "rsa-4096"), s.keys[0])
    ex, _ = _keygen(s, kt)
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


def keygen(s: Session) -> str:
    kt = "ec-p256" if "ec-p256" in s.keys else s.keys[0]
    ex, wire = _keygen(s, kt)
    again = s.raw.send(wire, timeout=max(s.raw.timeout, 5.0))
    if again.final_raw != ex.final_raw:
        raise CaseFailed(
            f"replayed KEYGEN answered {again.describe()!r}, not the cached {ex.describe()!r}"
        )
    if again.busy_at:
        raise CaseFailed("replayed KEYGEN sent BUSY frames: it was executed again")
    info = s.link.hello()
    if info.state is not m.BoardState.KEYED or info.key_type != kt:
        raise CaseFailed(f"after KEYGEN HELLO says state={info.state.value} kt={info.key_type}")
    s.key_type = kt
    return f"kt={kt}; replay answered the cached bytes; HELLO state=keyed kt={kt}"


def get_csr(s: Session) -> str:
    cn = f"conf-{s.uid}"[:64]
    frame = _ok(s.raw.call("GET_CSR", {"cn": cn}), "GET_CSR")
    info: m.ObjectInfo = _fields(frame, m.ObjectInfo, "GET_CSR")
    der = _read(s, "csr", info)
    try:
        s.csr_key = check_csr(der, s.uid, cn, s.key_type)
    except CsrProblem as e:
        raise CaseFailed(str(e)) from e
    plain = _ok(s.raw.call("GET_CSR"), "GET_CSR without cn")
    try:
        check_csr(
            _read(s, "csr", _fields(plain, m.ObjectInfo, "GET_CSR")), s.uid, s.uid, s.key_type
        )
    except CsrProblem as e:
        raise CaseFailed(f"GET_CSR without cn: {e}") from e
    return f"{info.total}-byte CSR verifies, CN={cn} serialNumber={s.uid}; without cn, CN=uid"


def read_errors(s: Session) -> str:
    frame = _ok(s.raw.call("GET_CSR"), "GET_CSR")
    total = _fields(frame, m.ObjectInfo, "GET_CSR").total
    _err(
        s.raw.call("READ", {"obj": "csr", "off": str(total)}), S.BAD_OFFSET, f"READ csr off={total}"
    )
    _err(s.raw.call("READ", {"obj": "sig", "off": "0"}), S.NO_OBJECT, "READ sig before SIGN")
    _err(s.raw.call("GET_CERT"), S.NO_OBJECT, "GET_CERT without a chain")
    _err(s.raw.call("LOCK"), S.BAD_STATE, "LOCK without a chain")
    _err(
        s.raw.call("PUT_CERT", {"off": "0", "data": "QUJD"}),
        S.BAD_STATE,
        "PUT_CERT chunk without begin",
    )
    s.csr_key = check_csr(
        _read(s, "csr", _fields(frame, m.ObjectInfo, "GET_CSR")), s.uid, s.uid, s.key_type
    )
    return "READ off=total: BAD_OFFSET; READ sig, GET_CERT: NO_OBJECT; LOCK, lone chunk: BAD_STATE"


def replay(s: Session) -> str:
    """Same seq and CRC: the cached bytes, not a second execution (a new CSR would differ)."""
    wire = s.raw.frame("GET_CSR")
    first = s.raw.send(wire)
    frame = _ok(first, "GET_CSR")
    second = s.raw.send(wire)
    if second.final_raw != first.final_raw:
        raise CaseFailed(
            f"GET_CSR replayed: {second.describe()!r} differs from {first.describe()!r}"
        )
    der = _read(s, "csr", _fields(frame, m.ObjectInfo, "GET_CSR"))
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
    _ok(s.raw.call("READ", {"obj": "csr", "off": "0"}), "READ csr after damaged KEYGENs")
    _ok(s.raw.call("HELLO", {"v": "1"}), "HELLO after damaged lines")
    return (
        f"{len(damaged)} damaged lines: {naks} NAK, {len(damaged) - naks} unanswered, none acted on"
    )


def framing(s: Session) -> str:
    """CR LF line ends, upper-case CRC, lower-case escapes and unknown fields, a frame whose LF
    comes late (a frame ends at its 8th CRC digit)."""
    crlf = s.raw.frame("HELLO", {"v": "1"})
    _ok(s.raw.send(crlf[:-1] + b"\r\n"), "HELLO ended by CR LF")
    upper = s.raw.frame("HELLO", {"v": "1"})
    star = upper.rindex(b"*")
    _ok(s.raw.send(upper[:star] + upper[star:].upper()), "HELLO with an upper-case CRC")
    body = b"P1 %d HELLO v=1 zz=%%7e%%25%%2a" % s.raw.next_seq()
    lower = b"~" + body + b"*%08x\n" % crc32(body)
    _ok(s.raw.send(lower), "HELLO with an unknown field holding lower-case escapes")
    late = s.raw.frame("HELLO", {"v": "1"})
    _ok(s.raw.send(late[:-1]), "HELLO whose LF has not arrived")
    s.port.write(b"\n")
    if any(line.frame and line.frame.name == m.NAK for line in s.raw.listen(0.3)):
        raise CaseFailed("the LF after a complete frame was answered with NAK (an empty line)")
    return "CR LF, upper-case CRC, %7e and unknown field, frame complete at its CRC: all answered"


def too_large(s: Session) -> str:
    ex = s.raw.call("PUT_CERT", {"total": "65536", "sha": "0" * 64})
    if ex.status == S.TOO_LARGE:
        return "PUT_CERT total=65536 answered TOO_LARGE"
    _ok(ex, "PUT_CERT total=65536")
    return "the board stores 64 KiB chains (begin accepted)"


def _transfer(s: Session, sha: bytes, *, probe_offsets: bool) -> tuple[Exchange, bytes]:
    chain = s.chain
    begin = _ok(
        s.raw.call("PUT_CERT", {"total": str(len(chain)), "sha": sha.hex()}), "PUT_CERT begin"
    )
    if begin.get("next") != "0":
        raise CaseFailed(f"PUT_CERT begin answered next={begin.get('next')}, expected 0")
    capacity = chunk_capacity(s.mtu, "PUT_CERT", len(chain))
    last: tuple[Exchange, bytes] | None = None
    for i, (off, piece) in enumerate(chunks(chain, capacity)):
        if probe_offsets and i in (0, 1):
            wrong = {"off": str(off + 1 if i == 0 else 0), "data": m.b64(piece)}
            _err(
                s.raw.call("PUT_CERT", wrong),
                S.BAD_OFFSET,
                f"PUT_CERT chunk at off={wrong['off']}, expected {off}",
            )
        wire = s.raw.frame("PUT_CERT", {"off": str(off), "data": m.b64(piece)})
        if len(wire) > s.mtu:
            raise CaseFailed(f"suite bug: chunk line of {len(wire)} bytes > mtu {s.mtu}")
        ex = s.raw.send(wire)
        last = (ex, wire)
        if off + len(piece) < len(chain):
            frame = _ok(ex, f"PUT_CERT chunk at {off}")
            if frame.get("next") != str(off + len(piece)):
                raise CaseFailed(f"PUT_CERT chunk at {off}: next={frame.get('next')}")
    assert last is not None
    return last


def digest_mismatch(s: Session) -> str:
    s.chain = throwaway_chain(s.key(), s.uid)
    ex, _ = _transfer(s, hashlib.sha256(b"not the chain").digest(), probe_offsets=False)
    _err(ex, S.DIGEST_MISMATCH, "final PUT_CERT chunk with a wrong sha")
    _err(
        s.raw.call("PUT_CERT", {"off": "0", "data": "QUJD"}),
        S.BAD_STATE,
        "chunk after a discarded transfer",
    )
    _err(s.raw.call("GET_CERT"), S.NO_OBJECT, "GET_CERT after a digest mismatch")
    return "final chunk: DIGEST_MISMATCH; transfer discarded; nothing committed"


def put_cert(s: Session) -> str:
    if not s.chain:
        s.chain = throwaway_chain(s.key(), s.uid)
    ex, wire = _transfer(s, hashlib.sha256(s.chain).digest(), probe_offsets=True)
    frame = _ok(ex, "final PUT_CERT chunk")
    if frame.get("next") != str(len(s.chain)) or frame.get("done") != "1":
        raise CaseFailed(
            f"final chunk answered {ex.describe()!r}, expected next={len(s.chain)} done=1"
        )
    again = s.raw.send(wire)
    if again.final_raw != ex.final_raw:
        raise CaseFailed(f"replayed final chunk answered {again.describe()!r}: executed twice")
    state = s.link.hello().state
    if state is not m.BoardState.CERTIFIED:
        raise CaseFailed(f"after the commit HELLO says state={state.value}")
    size = chunk_capacity(s.mtu, "PUT_CERT", len(s.chain))
    return (
        f"{len(s.chain)}-byte chain in {size}-byte chunks; wrong offsets: BAD_OFFSET; "
        "committed (done=1); the replayed final chunk got the cached answer"
    )


def get_cert(s: Session) -> str:
    frame = _ok(s.raw.call("GET_CERT"), "GET_CERT")
    data = _read(s, "cert", _fields(frame, m.ObjectInfo, "GET_CERT"))
    if data != s.chain:
        raise CaseFailed("the chain read back differs from the one written")
    if s.link.get_cert() != s.chain:
        raise CaseFailed("the chain read back through the Link differs")
    return f"{len(data)} bytes read back unchanged"


def _sign(s: Session, size: int) -> None:
    challenge = secrets.token_bytes(size)
    sig, alg = s.link.sign(challenge)
    want = "rsa-pkcs1-sha256" if s.key_type.startswith("rsa") else "ecdsa-sha256"
    if alg != want:
        raise CaseFailed(f"SIGN answered alg={alg!r}, expected {want}")
    if not verify_sha256(s.key(), sig, challenge):
        raise CaseFailed(
            f"the signature over a {size}-byte challenge does not verify with the CSR's key"
        )


def sign(s: Session) -> str:
    for size in (16, 32, 64):
        _sign(s, size)
    _err(
        s.raw.call("SIGN", {"ch": m.b64(bytes(65))}), S.BAD_REQUEST, "SIGN with a 65-byte challenge"
    )
    return "16, 32 and 64-byte challenges signed with the CSR's key; 65 bytes: BAD_REQUEST"


def lock(s: Session) -> str:
    for attempt in ("LOCK", "LOCK again"):
        frame = _ok(s.raw.call("LOCK"), attempt)
        if frame.get("state") != "locked":
            raise CaseFailed(f"{attempt} answered state={frame.get('state')}")
    if s.link.hello().state is not m.BoardState.LOCKED:
        raise CaseFailed("after LOCK HELLO does not say state=locked")
    return "LOCK answered state=locked twice; HELLO says locked"


def locked(s: Session) -> str:
    _err(s.raw.call("KEYGEN", {"kt": s.key_type}), S.LOCKED, "KEYGEN after LOCK")
    sha = hashlib.sha256(s.chain).hexdigest()
    _err(
        s.raw.call("PUT_CERT", {"total": str(len(s.chain)), "sha": sha}),
        S.LOCKED,
        "PUT_CERT begin after LOCK",
    )
    _err(
        s.raw.call("PUT_CERT", {"off": "0", "data": "QUJD"}), S.LOCKED, "PUT_CERT chunk after LOCK"
    )
    if s.link.get_cert() != s.chain:
        raise CaseFailed("after LOCK the chain read back differs")
    _sign(s, 32)
    return "KEYGEN, PUT_CERT: LOCKED; HELLO, GET_CERT, READ, SIGN still work"


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
            f"{len(damaged)} damaged frame lines from the board, e.g. {damaged[0].raw[:80]!r}"
        )
    text = sum(1 for line in s.port.lines if line.frame is None)
    return f"{text} console lines between frames; every frame intact"


Case = Callable[[Session], str]

#: The suite, in the order it runs. Names are stable: tests and reports refer to them.
CASES: tuple[tuple[str, Case], ...] = (
    ("hello", hello),
    ("bad-version", bad_version),
    ("unsupported", unsupported),
    ("bad-request", bad_request),
    ("blank-state", blank_state),
    ("unsupported-key", unsupported_key),
    ("keep-alive", keep_alive),
    ("keygen", keygen),
    ("get-csr", get_csr),
    ("read-errors", read_errors),
    ("replay", replay),
    ("bad-crc", bad_crc),
    ("framing", framing),
    ("too-large", too_large),
    ("digest-mismatch", digest_mismatch),
    ("put-cert", put_cert),
    ("get-cert", get_cert),
    ("sign", sign),
    ("lock", lock),
    ("locked", locked),
    ("line-length", line_length),
    ("console", console),
)

__all__ = ["BUSY_SLACK", "CASES", "CaseFailed", "Session", "encode"]
