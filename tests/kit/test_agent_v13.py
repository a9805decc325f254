"""The C agent's protocol 1.3 on its real pty: `caps=text` in HELLO, the object's first bytes
inline in GET_CSR, GET_CERT and SIGN answers, and PUT_CERT chunks carrying `text`; a 1.3 cycle
takes fewer requests than a 1.2 one, and a 1.2 station still provisions the board."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from device_protocol.framing import SEQ_MODULO, Frame, encode

from .raw_line import RawLine
from .running import Agent
from .station13 import issue_chain, old_and_new, text_pieces

StartAgent = Callable[..., Agent]
MTU = 256
BAD_REQUEST = "2"


def worst_length(answer: Frame) -> int:
    """The answer's line length had it carried seq 65535."""
    return len(encode(Frame(seq=SEQ_MODULO - 1, name=answer.name, fields=dict(answer.fields))))


def read_all(line: RawLine, obj: str, start: int, total: int) -> bytes:
    """READ obj from start until total bytes."""
    data = b""
    while start + len(data) < total:
        got = line.request("READ", obj=obj, off=str(start + len(data)))
        assert got.name == "OK", got
        data += base64.b64decode(got.fields["data"])
    return data


def check_inline(line: RawLine, answer: Frame, obj: str) -> bytes:
    """The answer's `data`: the object's first bytes (READ from 0 gives the same), as many as
    fit mtu at seq 65535 in whole base64 quads, never empty; the object, read to its end."""
    assert answer.name == "OK", answer
    total, text = int(answer.fields["total"]), answer.fields["data"]
    inline = base64.b64decode(text, validate=True)
    assert 0 < len(inline) <= total
    assert len(text) % 4 == 0
    assert worst_length(answer) <= MTU
    if len(inline) < total:  # cut: another quad would not have fit
        assert worst_length(answer) + 4 > MTU, worst_length(answer)
    whole = inline + read_all(line, obj, len(inline), total)
    assert read_all(line, obj, 0, total) == whole
    assert hashlib.sha256(whole).hexdigest() == answer.fields["sha"]
    return whole


def test_hello_announces_caps_text_and_still_fits_the_mtu(start_agent: StartAgent) -> None:
    with RawLine(start_agent().url) as line:
        hello = line.request("HELLO", v="1")
    assert hello.get("caps") == "text"
    worst = dict(hello.fields, state="certified", kt="rsa-2048")
    assert len(encode(Frame(seq=SEQ_MODULO - 1, name="OK", fields=worst))) == 163 <= MTU


def test_get_csr_and_sign_answers_carry_the_first_bytes_that_fit(start_agent: StartAgent) -> None:
    with RawLine(start_agent().url) as line:
        line.request("HELLO", v="1")
        assert line.request("KEYGEN", kt="ec-p256").name == "OK"
        csr = line.request("GET_CSR", cn="x" * 64)
        assert 0 < len(base64.b64decode(csr.fields["data"])) < int(csr.fields["total"])
        check_inline(line, csr, "csr")
        challenge = base64.b64encode(os.urandom(32)).decode()
        sig = line.request("SIGN", ch=challenge)
        assert sig.get("alg") == "ecdsa-sha256"
        inline = base64.b64decode(sig.fields["data"])
        assert len(inline) == int(sig.fields["total"])  # the whole ECDSA signature: no READ
        assert check_inline(line, sig, "sig") == inline


def send_chain_as_text(line: RawLine, chain: bytes) -> Frame:
    """PUT_CERT begin, a chunk that starts and ends on an escaped byte (LF), then text chunks
    sized greedily for mtu; the final chunk's answer."""
    first_lf = chain.index(b"\n")
    second_lf = chain.index(b"\n", first_lf + 1)
    cut = [(0, chain[:first_lf]), (first_lf, chain[first_lf : second_lf + 1])]
    pieces = cut + text_pieces(chain, MTU, start=second_lf + 1)
    sha = hashlib.sha256(chain).hexdigest()
    assert line.request("PUT_CERT", total=str(len(chain)), sha=sha).get("next") == "0"
    answer = Frame(seq=0, name="NONE")
    for off, piece in pieces:
        sent = line.send("PUT_CERT", off=str(off), text=piece.decode("ascii"))
        assert len(encode(Frame(seq=SEQ_MODULO - 1, name="PUT_CERT", fields=sent.fields))) <= MTU
        got = line.answer(sent.seq)
        assert got is not None
        assert got.get("next") == str(off + len(piece)), got
        answer = got
    return answer


def test_text_chunks_store_the_chain_byte_identical(start_agent: StartAgent) -> None:
    agent = start_agent()
    chain = issue_chain(ec.generate_private_key(ec.SECP256R1()).public_key())
    with RawLine(agent.url) as line:
        line.request("HELLO", v="1")
        assert line.request("KEYGEN", kt="ec-p256").name == "OK"
        final = send_chain_as_text(line, chain)
        assert final.get("done") == "1"
        assert final.get("sha") == hashlib.sha256(chain).hexdigest()
        assert check_inline(line, line.request("GET_CERT"), "cert") == chain
    assert (agent.state / "chain.pem").read_bytes() == chain


def test_a_chunk_with_text_and_data_neither_or_an_empty_one_is_bad_request(
    start_agent: StartAgent,
) -> None:
    chain = b"-----BEGIN CERTIFICATE-----\nAAAA\n"
    with RawLine(start_agent().url) as line:
        line.request("HELLO", v="1")
        assert line.request("KEYGEN", kt="ec-p256").name == "OK"
        sha = hashlib.sha256(chain).hexdigest()
        assert line.request("PUT_CERT", total=str(len(chain)), sha=sha).get("next") == "0"
        b64 = base64.b64encode(chain).decode()
        bad: list[dict[str, Any]] = [
            {"off": "0", "text": chain.decode(), "data": b64},
            {"off": "0"},
            {"off": "0", "text": ""},
            {"off": "0", "data": ""},
            {"off": "0", "text": "", "data": b64},
        ]
        for fields in bad:
            refused = line.request("PUT_CERT", **fields)
            assert (refused.name, refused.get("code")) == ("ERR", BAD_REQUEST), (fields, refused)
            assert refused.fields["msg"]
        # the transfer is still on at 0: a good text chunk completes it
        done = line.request("PUT_CERT", off="0", text=chain.decode())
        assert (done.get("next"), done.get("done")) == (str(len(chain)), "1"), done


def test_a_1_3_station_provisions_in_fewer_requests(start_agent: StartAgent) -> None:
    old_board, new_board = start_agent("old"), start_agent("new")
    old_and_new(old_board, new_board)  # a 1.2 station ignores caps and the inline data
