"""The conformance cases for SPEC.md 1.3's optional features: inline object bytes in the answers
of GET_CSR, SIGN and GET_CERT (7.3, 7.6, 7.7), and PUT_CERT text chunks for a board that lists
``text`` in HELLO's ``caps`` (7.1, 7.5). A board without them passes with nothing to check: a
1.0-1.2 board stays conformant."""

from __future__ import annotations

import hashlib
import secrets

from device_protocol import messages as m
from device_protocol.conformance.session import (
    CaseFailed,
    S,
    Session,
    expect_err,
    expect_ok,
    object_info,
    read_raw,
)
from device_protocol.framing import SEQ_MODULO, Frame, encode
from device_protocol.transfer import inline_capacity, text_chunks

#: PEM's line end: a byte a text value escapes (SPEC.md 2.1 rule 3).
_LF = b"\n"


def _inline(s: Session, asked: str, obj: str, frame: Frame) -> str | None:
    """Check one answer's inline ``data``; a line for the detail, or None without it."""
    info = object_info(frame, asked)  # data empty or over total: a bad answer
    if info.data is None:
        return None
    worst = len(encode(Frame(SEQ_MODULO - 1, m.OK, dict(frame.fields))))
    if worst > s.mtu:
        raise CaseFailed(
            f"{asked}'s answer with {len(info.data)} inline bytes takes {worst} bytes with seq "
            f"65535, over mtu {s.mtu}: size data for the worst case (SPEC.md 7.3)"
        )
    whole = read_raw(s, obj, info)
    if whole[: len(info.data)] != info.data:
        raise CaseFailed(
            f"{asked}'s inline data ({len(info.data)} bytes) is not the {obj}'s first bytes as "
            f"READ from offset 0 returns them"
        )
    fits = min(info.total, inline_capacity(s.mtu, object_info_fields(info)))
    room = "" if len(info.data) >= fits else f" (up to {fits} would fit)"
    return f"{asked}: {len(info.data)} of {info.total} bytes inline{room}"


def object_info_fields(info: m.ObjectInfo) -> dict[str, str]:
    """An answer's fields without its inline data: what sizing starts from."""
    return m.ObjectInfo(info.total, info.sha256, info.alg).to_fields()


def inline_objects(s: Session) -> str:
    """GET_CSR, SIGN (and GET_CERT with a chain stored): inline data, when present, is the
    object's first bytes, not empty, not over total, and the answer fits the mtu."""
    answers = [
        ("GET_CSR", "csr", expect_ok(s.raw.call("GET_CSR"), "GET_CSR")),
        (
            "SIGN",
            "sig",
            expect_ok(s.raw.call("SIGN", {"ch": m.b64(secrets.token_bytes(32))}), "SIGN"),
        ),
    ]
    cert = s.raw.call("GET_CERT")
    if cert.final is not None and cert.final.name == m.OK:
        answers.append(("GET_CERT", "cert", cert.final))
    found = [line for asked, obj, frame in answers if (line := _inline(s, asked, obj, frame))]
    if not found:
        return "no inline data in GET_CSR or SIGN answers: a 1.0-1.2 board (nothing to check)"
    return "; ".join(found) + "; each equals READ from offset 0"


def _pieces(chain: bytes, mtu: int) -> list[tuple[int, bytes]]:
    """Text chunks for ``chain``, the second one starting and ending on an escaped byte (an LF
    of the PEM) when the chain has two: a board must decode an escape at either end."""
    first = chain.find(_LF)
    second = chain.find(_LF, first + 1)
    if first <= 0 or second < 0:
        return text_chunks(chain, mtu)
    head = [(0, chain[:first]), (first, chain[first : second + 1])]
    rest = [(second + 1 + off, piece) for off, piece in text_chunks(chain[second + 1 :], mtu)]
    return head + rest


def text_chunks_case(s: Session) -> str:
    """The chain sent as text chunks is stored byte for byte; data and text together, and an
    empty text, are BAD_REQUEST."""
    if m.CAP_TEXT not in s.info().caps:
        return "no caps=text in HELLO: the board takes data chunks only (nothing to check)"
    if not s.chain:
        raise CaseFailed("no chain from an earlier case")
    chain = s.chain
    expect_err(
        s.raw.call("PUT_CERT", {"off": "0", "data": m.b64(chain[:3]), "text": "ABC"}),
        S.BAD_REQUEST,
        "PUT_CERT chunk with both data and text",
    )
    expect_err(
        s.raw.call("PUT_CERT", {"off": "0", "text": ""}), S.BAD_REQUEST, "PUT_CERT empty text"
    )
    sha = hashlib.sha256(chain).digest()
    expect_ok(s.raw.call("PUT_CERT", {"total": str(len(chain)), "sha": sha.hex()}), "begin")
    pieces = _pieces(chain, s.mtu)
    final: Frame | None = None
    for off, piece in pieces:
        wire = s.raw.frame("PUT_CERT", {"off": str(off), "text": piece.decode("ascii")})
        if len(wire) + len(str(SEQ_MODULO - 1)) - len(wire.split(b" ")[1]) > s.mtu:
            raise CaseFailed(f"suite bug: text chunk line of {len(wire)} bytes > mtu {s.mtu}")
        final = expect_ok(s.raw.send(wire), f"PUT_CERT text chunk at {off}")
        if final.get("next") != str(off + len(piece)):
            raise CaseFailed(
                f"PUT_CERT text chunk at {off} ({len(piece)} bytes) answered "
                f"next={final.get('next')}, expected {off + len(piece)}"
            )
    assert final is not None
    if final.get("done") != "1":
        raise CaseFailed("the final text chunk was not answered done=1")
    stored = final.get("sha")
    if stored is not None and stored != sha.hex():
        raise CaseFailed(f"final text chunk sha={stored}, the chain sent has {sha.hex()}")
    back = read_raw(
        s, "cert", object_info(expect_ok(s.raw.call("GET_CERT"), "GET_CERT"), "GET_CERT")
    )
    if back != chain:
        raise CaseFailed("the chain sent as text chunks reads back different (GET_CERT + READ)")
    return (
        f"{len(chain)}-byte chain in {len(pieces)} text chunks (one starting and ending on an "
        "escaped LF) stored byte for byte; data with text, empty text: BAD_REQUEST"
    )
