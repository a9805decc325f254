"""Chunk sizing (SPEC.md 2.5, 7.3, 7.5): every line a transfer makes fits the board's mtu, and
the pieces rejoin to the object. Pure, property-tested."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_protocol.framing import SEQ_MODULO, Frame, encode, parse_line
from device_protocol.messages import MAX_OBJECT, MIN_MTU, ObjectInfo, PutCertChunk, decode_request
from device_protocol.transfer import chunk_capacity, chunks, inline_capacity, text_chunks

PROPS = settings(max_examples=300, deadline=None)
#: PEM-like chains: base64 lines and LFs, plus every other ASCII byte now and then.
ASCII_CHAINS = st.one_of(
    st.binary(min_size=1, max_size=3000).map(lambda b: bytes(c & 0x7F for c in b)),
    st.lists(
        st.sampled_from([b"A" * 64 + b"\n", b"-----END CERTIFICATE-----\n", b"%*~ \r"]),
        min_size=1,
        max_size=60,
    ).map(b"".join),
)
MTUS = st.integers(MIN_MTU, 4096)


def _worst_line(off: int, piece: bytes) -> bytes:
    return encode(Frame(SEQ_MODULO - 1, "PUT_CERT", PutCertChunk(off, piece, True).to_fields()))


@PROPS
@given(chain=ASCII_CHAINS, mtu=MTUS)
def test_text_chunks_fit_the_mtu_and_rejoin_to_the_chain(chain: bytes, mtu: int) -> None:
    pieces = text_chunks(chain, mtu)
    assert b"".join(piece for _, piece in pieces) == chain
    at = 0
    for off, piece in pieces:
        assert off == at
        assert piece
        at += len(piece)
        line = _worst_line(off, piece)
        assert len(line) <= mtu
        # What the board decodes is the bytes sent (SPEC.md 7.5).
        (frame,) = parse_line(line[:-1])
        assert isinstance(frame, Frame)
        assert decode_request("PUT_CERT", frame.fields) == PutCertChunk(off, piece, True)


@PROPS
@given(chain=ASCII_CHAINS, mtu=MTUS)
def test_text_chunks_are_greedy(chain: bytes, mtu: int) -> None:
    """Every chunk but the last is full: one more byte would not fit the line."""
    pieces = text_chunks(chain, mtu)
    for off, piece in pieces[:-1]:
        longer = chain[off : off + len(piece) + 1]
        assert (
            len(
                encode(
                    Frame(
                        SEQ_MODULO - 1,
                        "PUT_CERT",
                        {"off": str(len(chain)), "text": longer.decode()},
                    )
                )
            )
            > mtu
        )


def test_a_pem_chain_takes_fewer_text_chunks_than_base64_chunks() -> None:
    line = base64.b64encode(bytes(range(48))) + b"\n"
    pem = b"-----BEGIN CERTIFICATE-----\n" + line * 20 + b"-----END CERTIFICATE-----\n"
    text = text_chunks(pem, 256)
    data = chunks(pem, chunk_capacity(256, "PUT_CERT", len(pem)))
    assert len(text) < len(data)
    assert sum(len(_worst_line(off, p)) for off, p in text) < 0.85 * sum(
        len(encode(Frame(SEQ_MODULO - 1, "PUT_CERT", PutCertChunk(off, p).to_fields())))
        for off, p in data
    )


@pytest.mark.parametrize(
    ("chain", "mtu", "message"),
    [
        pytest.param("é".encode(), 256, "ASCII only", id="fail/not-ascii"),
        pytest.param(b"\x00\xff", 256, "ASCII only", id="fail/binary"),
        pytest.param(b"x", 40, "no room for text", id="fail/tiny-mtu"),
    ],
)
def test_text_chunks_refuse_what_text_cannot_carry(chain: bytes, mtu: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        text_chunks(chain, mtu)


@PROPS
@given(
    total=st.integers(1, MAX_OBJECT),
    mtu=MTUS,
    alg=st.none() | st.sampled_from(["ecdsa-sha256", "rsa-pkcs1-sha256"]),
)
def test_inline_data_fits_the_answer_with_any_seq(total: int, mtu: int, alg: str | None) -> None:
    info = ObjectInfo(total, bytes(32), alg)
    size = min(total, inline_capacity(mtu, info.to_fields()))
    if size:
        full = ObjectInfo(total, bytes(32), alg, b"\xff" * size)
        assert len(encode(Frame(SEQ_MODULO - 1, "OK", full.to_fields()))) <= mtu
    bigger = ObjectInfo(
        total, bytes(32), alg, b"\xff" * (inline_capacity(mtu, info.to_fields()) + 3)
    )
    assert len(encode(Frame(SEQ_MODULO - 1, "OK", bigger.to_fields()))) > mtu
