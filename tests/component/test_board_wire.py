"""The virtual board's side of SPEC.md, byte by byte on a real pty (no Link in between)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import serial

from device_protocol.framing import Decoder, Frame, encode
from device_protocol.messages import NAK, Status
from fixtures.board import BoardServer, Faults

MakeBoard = Callable[..., BoardServer]
Wire = tuple[BoardServer, serial.Serial]


@pytest.fixture
def wire(make_board: MakeBoard) -> Iterator[tuple[BoardServer, serial.Serial]]:
    board = make_board(Faults(boot_chatter=False))
    port = serial.serial_for_url(board.url, timeout=0.05)
    yield board, port
    port.close()


def exchange(
    port: serial.Serial, data: bytes, *, want: int = 1, within: float = 3.0
) -> list[Frame]:
    """Write ``data`` and collect ``want`` frames (polling with a deadline, no sleeps)."""
    port.write(data)
    decoder = Decoder()
    frames: list[Frame] = []
    deadline = time.monotonic() + within
    while len(frames) < want and time.monotonic() < deadline:
        frames += [e for e in decoder.feed(port.read(port.in_waiting or 1)) if isinstance(e, Frame)]
    return frames


def test_a_repeated_request_is_answered_from_the_cache_not_executed_again(wire: Wire) -> None:
    board, port = wire
    keygen = encode(Frame(seq=77, name="KEYGEN", fields={"kt": "ec-p256"}))
    first = exchange(port, keygen)
    key_before = (board.device.element.folder / "key.pem").read_bytes()
    second = exchange(port, keygen)
    assert first == second
    assert first[0].name == "OK"
    assert (board.device.element.folder / "key.pem").read_bytes() == key_before
    # The same seq with different content is a new request.
    third = exchange(port, encode(Frame(seq=77, name="KEYGEN", fields={"kt": "ec-p384"})))
    assert third[0].fields["kt"] == "ec-p384"
    assert (board.device.element.folder / "key.pem").read_bytes() != key_before


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        pytest.param(Frame(seq=5, name="FORMAT_FLASH"), Status.UNSUPPORTED, id="fail/unknown"),
        pytest.param(Frame(seq=6, name="KEYGEN"), Status.BAD_REQUEST, id="fail/missing-field"),
        pytest.param(Frame(seq=7, name="HELLO", version=2), Status.BAD_VERSION, id="fail/version"),
        pytest.param(Frame(seq=8, name="GET_CSR"), Status.BAD_STATE, id="fail/csr-before-keygen"),
        pytest.param(Frame(seq=9, name="LOCK"), Status.BAD_STATE, id="fail/lock-without-cert"),
        pytest.param(Frame(seq=10, name="GET_CERT"), Status.NO_OBJECT, id="fail/no-cert"),
        pytest.param(
            Frame(seq=11, name="READ", fields={"obj": "csr", "off": "0"}),
            Status.NO_OBJECT,
            id="fail/read-nothing",
        ),
    ],
)
def test_errors_come_back_as_status_codes(wire: Wire, frame: Frame, status: Status) -> None:
    _, port = wire
    [answer] = exchange(port, encode(frame))
    assert answer.name == "ERR"
    assert answer.seq == frame.seq
    assert int(answer.fields["code"]) == status
    assert answer.fields["msg"]


def test_a_damaged_request_gets_a_nak(wire: Wire) -> None:
    _, port = wire
    good = encode(Frame(seq=3, name="HELLO", fields={"v": "1"}))
    damaged = good.replace(b"HELLO", b"HELLP")
    [nak] = exchange(port, damaged)
    assert (nak.name, nak.seq, dict(nak.fields)) == (NAK, 0, {})
    [hello] = exchange(port, good)
    assert hello.name == "OK"


def test_no_answer_line_exceeds_the_mtu(make_board: MakeBoard) -> None:
    board = make_board(Faults(boot_chatter=False), mtu=128)
    port = serial.serial_for_url(board.url, timeout=0.05)
    try:
        sent = [
            Frame(seq=1, name="HELLO", fields={"v": "1"}),
            Frame(seq=2, name="KEYGEN", fields={"kt": "rsa-2048"}),
            Frame(seq=3, name="GET_CSR"),
        ] + [
            Frame(seq=4 + i, name="READ", fields={"obj": "csr", "off": str(i * 66)})
            for i in range(5)
        ]
        for frame in sent:
            [answer] = exchange(port, encode(frame))
            assert answer.name == "OK", answer
            assert len(encode(answer)) <= 128
    finally:
        port.close()


def test_a_chunk_past_the_total_is_too_large_and_discards_the_transfer(wire: Wire) -> None:
    board, port = wire
    assert exchange(port, encode(Frame(seq=1, name="KEYGEN", fields={"kt": "ec-p256"})))
    digest = "00" * 32
    [begun] = exchange(
        port, encode(Frame(seq=2, name="PUT_CERT", fields={"total": "4", "sha": digest}))
    )
    assert begun.name == "OK"
    [refused] = exchange(
        port, encode(Frame(seq=3, name="PUT_CERT", fields={"off": "0", "data": "AAAAAAAA"}))
    )
    assert refused.name == "ERR"
    assert int(refused.fields["code"]) == Status.TOO_LARGE
    [after] = exchange(
        port, encode(Frame(seq=4, name="PUT_CERT", fields={"off": "0", "data": "AAAA"}))
    )
    assert int(after.fields["code"]) == Status.BAD_STATE  # no transfer any more
    assert board.device.element.chain() is None
