"""The conformance cases for SPEC.md's messages, run in order against one board (which they key
and lock). Each case takes the :class:`Session` and returns a one-line detail, or raises
:class:`CaseFailed`; cases build on each other like the provisioning cycle (see suite.py).
"""

from __future__ import annotations

import hashlib
import secrets

from device_protocol import messages as m
from device_protocol.conformance.pki import CsrProblem, check_csr, throwaway_chain
from device_protocol.conformance.session import (
    CaseFailed,
    S,
    Session,
    expect_err,
    expect_ok,
    object_info,
    read_raw,
)
from device_protocol.conformance.wire import Exchange
from device_protocol.limits import chain_store
from device_protocol.signatures import verify_sha256
from device_protocol.transfer import chunk_capacity, chunks


def hello(s: Session) -> str:
    info = s.link.hello()
    if info.version != 1:
        raise CaseFailed(f"v={info.version}, expected 1")
    if not info.key_types:
        raise CaseFailed("keys is empty")
    s.hello = info
    s.mtu, s.uid, s.keys = info.mtu, info.uid, info.key_types
    s.blank = info.state is m.BoardState.BLANK
    if info.state is m.BoardState.LOCKED:
        raise CaseFailed("the board is already locked; the suite needs a blank (or unlocked) board")
    keys = ",".join(info.key_types)
    return f"uid={info.uid} fw={info.firmware} mtu={info.mtu} keys={keys} state={info.state.value}"


def bad_version(s: Session) -> str:
    ex = s.raw.send(s.raw.frame("GET_CERT", version=2))
    expect_err(ex, S.BAD_VERSION, "P2 GET_CERT")
    if ex.final is not None and ex.final.version != 1:
        raise CaseFailed(f"BAD_VERSION answer framed as P{ex.final.version}, expected P1")
    return "P2 frame answered ERR code=3 framed as P1"


def unsupported(s: Session) -> str:
    expect_err(s.raw.call("REBOOT"), S.UNSUPPORTED, "REBOOT")
    return "unknown message REBOOT answered UNSUPPORTED"


def bad_request(s: Session) -> str:
    expect_err(
        s.raw.call("SIGN", {"ch": m.b64(b"short")}), S.BAD_REQUEST, "SIGN with a 5-byte challenge"
    )
    expect_err(s.raw.call("READ", {"obj": "csr"}), S.BAD_REQUEST, "READ without off")
    expect_err(s.raw.call("KEYGEN"), S.BAD_REQUEST, "KEYGEN without kt")
    return "short challenge, missing off, missing kt: BAD_REQUEST"


def blank_state(s: Session) -> str:
    if not s.blank:
        raise CaseFailed("the board was not blank at the start; run the suite on a blank board")
    expect_err(s.raw.call("GET_CSR"), S.BAD_STATE, "GET_CSR before KEYGEN")
    expect_err(s.raw.call("SIGN", {"ch": m.b64(bytes(32))}), S.BAD_STATE, "SIGN before KEYGEN")
    expect_err(
        s.raw.call("PUT_CERT", {"total": "10", "sha": "0" * 64}),
        S.BAD_STATE,
        "PUT_CERT before KEYGEN",
    )
    expect_err(s.raw.call("LOCK"), S.BAD_STATE, "LOCK on a blank board")
    expect_err(
        s.raw.call("READ", {"obj": "csr", "off": "0"}), S.NO_OBJECT, "READ csr on a blank board"
    )
    return "GET_CSR, SIGN, PUT_CERT, LOCK refused with BAD_STATE; READ with NO_OBJECT"


def unsupported_key(s: Session) -> str:
    kt = next((k.value for k in m.KeyType if k.value not in s.keys), "rsa-1024")
    expect_err(s.raw.call("KEYGEN", {"kt": kt}), S.UNSUPPORTED_KEY, f"KEYGEN kt={kt}")
    expect_err(s.raw.call("KEYGEN", {"kt": "dsa-512"}), S.UNSUPPORTED_KEY, "KEYGEN kt=dsa-512")
    return f"kt={kt} and kt=dsa-512 answered UNSUPPORTED_KEY"


def keygen_exchange(s: Session, kt: str, *, lf: bool = True) -> tuple[Exchange, bytes]:
    """KEYGEN ``kt``; without ``lf`` the LF follows the answer (the frame is complete at its
    CRC, so the board's keep-alive clock starts there, SPEC.md 4)."""
    wire = s.raw.frame("KEYGEN", {"kt": kt})
    ex = s.raw.send(wire if lf else wire[:-1], timeout=max(s.raw.timeout, 5.0))
    if not lf:
        s.port.write(b"\n")
    frame = expect_ok(ex, f"KEYGEN kt={kt}")
    if frame.get("kt") != kt:
        raise CaseFailed(f"KEYGEN kt={kt} answered kt={frame.get('kt')}")
    return ex, wire


def keygen(s: Session) -> str:
    kt = "ec-p256" if "ec-p256" in s.keys else s.keys[0]
    ex, wire = keygen_exchange(s, kt)
    again = s.raw.send(wire, timeout=max(s.raw.timeout, 5.0))
    if again.final_frame != ex.final_frame:
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
    frame = expect_ok(s.raw.call("GET_CSR", {"cn": cn}), "GET_CSR")
    info: m.ObjectInfo = object_info(frame, "GET_CSR")
    der = read_raw(s, "csr", info)
    try:
        s.csr_key = check_csr(der, s.uid, cn, s.key_type)
    except CsrProblem as e:
        raise CaseFailed(str(e)) from e
    for what, fields in (("without cn", {}), ("with an empty cn", {"cn": ""})):
        plain = expect_ok(s.raw.call("GET_CSR", fields), f"GET_CSR {what}")
        try:
            csr = read_raw(s, "csr", object_info(plain, "GET_CSR"))
            check_csr(csr, s.uid, s.uid, s.key_type)
        except CsrProblem as e:
            raise CaseFailed(f"GET_CSR {what}: {e}") from e
    return (
        f"{info.total}-byte CSR verifies, CN={cn} serialNumber={s.uid}; without cn and with "
        "an empty cn, CN=uid"
    )


def read_errors(s: Session) -> str:
    frame = expect_ok(s.raw.call("GET_CSR"), "GET_CSR")
    total = object_info(frame, "GET_CSR").total
    expect_err(
        s.raw.call("READ", {"obj": "csr", "off": str(total)}), S.BAD_OFFSET, f"READ csr off={total}"
    )
    expect_err(s.raw.call("READ", {"obj": "sig", "off": "0"}), S.NO_OBJECT, "READ sig before SIGN")
    expect_err(s.raw.call("GET_CERT"), S.NO_OBJECT, "GET_CERT without a chain")
    expect_err(s.raw.call("LOCK"), S.BAD_STATE, "LOCK without a chain")
    expect_err(
        s.raw.call("PUT_CERT", {"off": "0", "data": "QUJD"}),
        S.BAD_STATE,
        "PUT_CERT chunk without begin",
    )
    s.csr_key = check_csr(
        read_raw(s, "csr", object_info(frame, "GET_CSR")), s.uid, s.uid, s.key_type
    )
    return "READ off=total: BAD_OFFSET; READ sig, GET_CERT: NO_OBJECT; LOCK, lone chunk: BAD_STATE"


def too_large(s: Session) -> str:
    """The board takes a chain as large as the storage it states (SPEC.md 7.1 store, at least
    the minimum when absent), and refuses a larger one with TOO_LARGE."""
    store = min(chain_store(s.info()), m.MAX_OBJECT)
    expect_ok(
        s.raw.call("PUT_CERT", {"total": str(store), "sha": "0" * 64}),
        f"PUT_CERT total={store} (the chain storage HELLO states)",
    )
    if store >= m.MAX_OBJECT or s.info().store is None:
        return f"PUT_CERT total={store} accepted"  # without store, the board has at least that
    expect_err(
        s.raw.call("PUT_CERT", {"total": str(store + 1), "sha": "0" * 64}),
        S.TOO_LARGE,
        f"PUT_CERT total={store + 1}, over the chain storage HELLO states",
    )
    return f"PUT_CERT total={store} accepted, total={store + 1} answered TOO_LARGE"


def chain_for(s: Session) -> bytes:
    """The suite's chain: large enough to fill a READ answer of the board's mtu, when its
    chain storage allows (SPEC.md 2.5)."""
    if not s.chain:
        store = min(chain_store(s.info()), m.MAX_OBJECT)
        fill = chunk_capacity(s.mtu, m.OK, store) + 1
        s.chain = throwaway_chain(s.key(), s.uid, at_least=fill, at_most=store)
    return s.chain


def transfer(s: Session, sha: bytes, *, probe_offsets: bool) -> tuple[Exchange, bytes]:
    chain = s.chain
    begin = expect_ok(
        s.raw.call("PUT_CERT", {"total": str(len(chain)), "sha": sha.hex()}), "PUT_CERT begin"
    )
    if begin.get("next") != "0":
        raise CaseFailed(f"PUT_CERT begin answered next={begin.get('next')}, expected 0")
    capacity = chunk_capacity(s.mtu, "PUT_CERT", len(chain))
    last: tuple[Exchange, bytes] | None = None
    for i, (off, piece) in enumerate(chunks(chain, capacity)):
        if probe_offsets and i in (0, 1):
            wrong = {"off": str(off + 1 if i == 0 else 0), "data": m.b64(piece)}
            expect_err(
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
            frame = expect_ok(ex, f"PUT_CERT chunk at {off}")
            if frame.get("next") != str(off + len(piece)):
                raise CaseFailed(f"PUT_CERT chunk at {off}: next={frame.get('next')}")
    assert last is not None
    return last


def digest_mismatch(s: Session) -> str:
    chain_for(s)
    ex, _ = transfer(s, hashlib.sha256(b"not the chain").digest(), probe_offsets=False)
    expect_err(ex, S.DIGEST_MISMATCH, "final PUT_CERT chunk with a wrong sha")
    expect_err(
        s.raw.call("PUT_CERT", {"off": "0", "data": "QUJD"}),
        S.BAD_STATE,
        "chunk after a discarded transfer",
    )
    expect_err(s.raw.call("GET_CERT"), S.NO_OBJECT, "GET_CERT after a digest mismatch")
    return "final chunk: DIGEST_MISMATCH; transfer discarded; nothing committed"


def put_cert(s: Session) -> str:
    chain_for(s)
    ex, wire = transfer(s, hashlib.sha256(s.chain).digest(), probe_offsets=True)
    frame = expect_ok(ex, "final PUT_CERT chunk")
    if frame.get("next") != str(len(s.chain)) or frame.get("done") != "1":
        raise CaseFailed(
            f"final chunk answered {ex.describe()!r}, expected next={len(s.chain)} done=1"
        )
    again = s.raw.send(wire)
    if again.final_frame != ex.final_frame:
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
    frame = expect_ok(s.raw.call("GET_CERT"), "GET_CERT")
    data = read_raw(s, "cert", object_info(frame, "GET_CERT"))
    if data != s.chain:
        raise CaseFailed("the chain read back differs from the one written")
    if s.link.get_cert() != s.chain:
        raise CaseFailed("the chain read back through the Link differs")
    full = chunk_capacity(s.mtu, m.OK, len(data))
    filled = "a full mtu-sized READ among them" if len(data) > full else "no READ filled the mtu"
    return f"{len(data)} bytes read back unchanged ({filled}; {full} bytes fill one)"


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
    expect_err(
        s.raw.call("SIGN", {"ch": m.b64(bytes(65))}), S.BAD_REQUEST, "SIGN with a 65-byte challenge"
    )
    return "16, 32 and 64-byte challenges signed with the CSR's key; 65 bytes: BAD_REQUEST"


def lock(s: Session) -> str:
    for attempt in ("LOCK", "LOCK again"):
        frame = expect_ok(s.raw.call("LOCK"), attempt)
        if frame.get("state") != "locked":
            raise CaseFailed(f"{attempt} answered state={frame.get('state')}")
    if s.link.hello().state is not m.BoardState.LOCKED:
        raise CaseFailed("after LOCK HELLO does not say state=locked")
    return "LOCK answered state=locked twice; HELLO says locked"


def locked(s: Session) -> str:
    expect_err(s.raw.call("KEYGEN", {"kt": s.key_type}), S.LOCKED, "KEYGEN after LOCK")
    sha = hashlib.sha256(s.chain).hexdigest()
    expect_err(
        s.raw.call("PUT_CERT", {"total": str(len(s.chain)), "sha": sha}),
        S.LOCKED,
        "PUT_CERT begin after LOCK",
    )
    expect_err(
        s.raw.call("PUT_CERT", {"off": "0", "data": "QUJD"}), S.LOCKED, "PUT_CERT chunk after LOCK"
    )
    if s.link.get_cert() != s.chain:
        raise CaseFailed("after LOCK the chain read back differs")
    _sign(s, 32)
    return "KEYGEN, PUT_CERT: LOCKED; HELLO, GET_CERT, READ, SIGN still work"
