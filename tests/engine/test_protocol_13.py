"""Protocol 1.3 through the engine, over real ptys against virtual boards: inline object bytes
and text chunks cut a cycle's round trips, while a 1.2 board and a 1.1 board provision as before,
and a board whose inline bytes are wrong fails with what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from device_protocol.link import Link
from device_protocol.transfer import text_chunks
from fixtures.board import BoardServer, Faults
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult
from station.engine.station import StationContext
from tests.engine.wire_trace import (
    names_sent,
    requests_sent,
)

MakeBoard = Callable[..., BoardServer]
QUIET = Faults(boot_chatter=False)


def run(station: StationContext, board: BoardServer) -> tuple[CycleResult, Link]:
    links: list[Link] = []

    def factory(url: str, **kw: Any) -> Link:
        links.append(Link.open_url(url, **kw))
        return links[-1]

    result = Cycle(
        station, "1", board.url, CycleOptions(operator="op-1"), link_factory=factory
    ).run()
    return result, links[0]


def test_a_1_3_board_provisions_in_fewer_round_trips(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    """EC device, EC intermediate, mtu 256: HELLO, KEYGEN, GET_CSR (111 bytes inline) + one
    READ, PUT_CERT begin + 8 text chunks, SIGN (the whole signature inline), LOCK: 15 requests,
    where a 1.2 board takes 19."""
    board = make_board(QUIET, mtu=256, key_types=("ec-p256",))
    result, link = run(station, board)
    assert result.passed, result.failure
    requests = requests_sent(trace)
    chain = board.device.element.chain()
    assert chain is not None
    assert link.stats.requests == len(requests) == 15
    names = [r.split(" ")[0] for r in requests]
    assert names == [
        "HELLO",
        "KEYGEN",
        "GET_CSR",
        "READ",
        "PUT_CERT",
        *["PUT_CERT"] * 8,
        "SIGN",
        "LOCK",
    ]
    assert requests[3].startswith("READ obj=csr off=111")  # the first 111 bytes came inline
    assert not any(r.startswith("READ obj=sig") for r in requests)
    chunks = [r for r in requests if r.startswith("PUT_CERT off=")]
    assert all(" text=" in r and " data=" not in r for r in chunks)
    assert len(chunks) == len(text_chunks(chain, 256))
    assert "GET_CERT" not in names


def test_a_1_2_board_provisions_unchanged(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    """No caps, no inline data: READ from 0 for the CSR and the signature, base64 chunks."""
    board = make_board(Faults(boot_chatter=False, spec_12=True), mtu=256, key_types=("ec-p256",))
    assert "caps" not in board.device.hello_info().to_fields()
    result, link = run(station, board)
    assert result.passed, result.failure
    requests = requests_sent(trace)
    names = [r.split(" ")[0] for r in requests]
    assert names == [
        "HELLO",
        "KEYGEN",
        "GET_CSR",
        "READ",
        "READ",
        "PUT_CERT",
        *["PUT_CERT"] * 10,
        "SIGN",
        "READ",
        "LOCK",
    ]
    assert link.stats.requests == 19
    assert requests[3] == "READ obj=csr off=0"
    assert "READ obj=sig off=0" in requests
    chunks = [r for r in requests if r.startswith("PUT_CERT off=")]
    assert all(" data=" in r and " text=" not in r for r in chunks)


def test_a_1_1_board_still_provisions_with_the_readback(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    board = make_board(Faults(boot_chatter=False, no_stored_digest=True), mtu=256)
    result, _ = run(station, board)
    assert result.passed, result.failure
    requests = requests_sent(trace)
    assert "GET_CERT" in requests
    assert "READ obj=cert off=0" in requests  # no inline data from a 1.1 board
    assert "READ obj=csr off=0" in requests
    assert not any(" text=" in r for r in requests)


def test_a_board_with_wrong_inline_bytes_fails_saying_what_to_do(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board(Faults(boot_chatter=False, bad_inline=True), mtu=256)
    result, _ = run(station, board)
    assert result.failure is not None
    assert result.failure.code == "protocol.CSR"
    message = result.failure.message
    assert "csr read back with a wrong SHA-256" in message
    assert "its first 111 bytes came inline in the GET_CSR answer" in message
    assert message.count("retry") == 1, message  # the advice once, not the detail's and its own
    assert "firmware" in message
    assert board.device.element.chain() is None  # refused before anything was issued


def test_a_malformed_caps_is_a_bad_hello_answer_before_keygen(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    board = make_board(QUIET, hello_overrides={"caps": "text,,zip"})
    result, _ = run(station, board)
    assert result.failure is not None
    assert result.failure.code == "protocol.HELLO"
    assert "field 'caps'='text,,zip': an empty name is not a capability name" in (
        result.failure.message
    )
    assert names_sent(trace) == ["HELLO"]  # nothing asked of the board
    assert board.device.element.key_type is None
