"""The negotiated line rate and the stored-chain digest (SPEC.md 1.2) through the engine, over
real ptys against virtual boards: the switch, the fallback and the slot's memory of it, the
RETURN to the default rate, and the readback a 1.1 board still gets."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from device_protocol.link import Link
from fixtures.board import BoardServer, Faults
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult
from station.engine.station import StationContext
from station.line.watch import hello_probe
from tests.engine.wire_trace import (
    names_sent,
)

MakeBoard = Callable[..., BoardServer]
FAST = (460800, 921600)


def run(
    station: StationContext, board: BoardServer, links: list[Link] | None = None
) -> CycleResult:
    def factory(url: str, **kw: Any) -> Link:
        link = Link.open_url(url, **kw)
        if links is not None:
            links.append(link)
        return link

    cycle = Cycle(station, "1", board.url, CycleOptions(operator="op-1"), link_factory=factory)
    return cycle.run()


def test_a_board_with_bauds_is_switched_paced_at_the_new_rate_and_returned(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    fast = dataclasses.replace(station, max_baud=921600)
    board = make_board(Faults(bauds=FAST, baud=115200, boot_chatter=False))
    links: list[Link] = []
    result = run(fast, board, links)
    assert result.passed, result.failure
    assert result.baud == 921600
    names = names_sent(trace)
    assert names[:3] == ["HELLO", "BAUD", "HELLO"]  # the switch, then the proof
    assert names[3] == "KEYGEN"  # the confirming request: everything after runs fast
    assert names[-1] == "BAUD"  # RETURN
    assert "GET_CERT" not in names  # the final chunk's sha proved the stored chain
    assert any("line at 921600 baud" in r.getMessage() for r in trace.records)
    stats = links[0].stats
    assert stats.switches == 1
    assert stats.fallbacks == 0
    assert stats.rate_bytes[921600] > 4 * stats.rate_bytes[115200]
    # The board paced what it moved at the rate the line ran at: most of it at 921600.
    assert board.paced_bytes[921600] > 4 * board.paced_bytes[115200]
    # RETURN: the board is back at the default rate, where the slot's watcher finds it.
    assert board.rate.rate == 115200
    probed = hello_probe(board.url)
    assert probed is not None
    assert probed.uid == board.identity.uid
    started = [e for e in station.audit.events() if e["kind"] == "STARTED"]
    assert json.loads(str(started[-1]["data"]))["baud"] == 921600


def test_max_baud_caps_the_rate_and_the_default_means_no_baud(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    board = make_board(Faults(bauds=FAST, boot_chatter=False))
    result = run(dataclasses.replace(station, max_baud=460800), board)
    assert result.passed, result.failure
    assert result.baud == 460800
    trace.clear()
    other = make_board(Faults(bauds=FAST, boot_chatter=False))
    result = run(station, other)  # max_baud 115200: the default, no negotiation
    assert result.passed, result.failure
    assert result.baud == 115200
    assert "BAUD" not in names_sent(trace)


def test_a_board_without_bauds_gets_no_baud_and_provisions_unchanged(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    board = make_board(Faults(boot_chatter=False, no_stored_digest=True))
    result = run(dataclasses.replace(station, max_baud=921600), board)
    assert result.passed, result.failure
    assert result.baud == 115200
    names = names_sent(trace)
    assert "BAUD" not in names
    assert "GET_CERT" in names  # a 1.1 board: no final sha, so the chain is read back


def test_a_board_that_garbles_after_the_switch_falls_back_and_the_slot_remembers(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    fast = dataclasses.replace(station, max_baud=921600)
    board = make_board(Faults(bauds=FAST, garble_after_switch=True, boot_chatter=False))
    links: list[Link] = []
    result = run(fast, board, links)
    assert result.passed, result.failure
    assert result.baud == 115200
    assert "could not hold 921600" in result.note
    assert links[0].stats.fallbacks == 1
    names = names_sent(trace)
    assert names.count("BAUD") == 1  # never re-sent: the board may have acted on it
    assert names[:2] == ["HELLO", "BAUD"]
    assert fast.rates.failed("1", board.identity.uid) == {921600}
    assert board.rate.rate == 115200
    # The same board on the same slot again: no BAUD at all, straight on at the default rate.
    trace.clear()
    again = run(fast, board)
    assert again.failure is None or again.failure.code.startswith("identity"), again.failure
    assert "BAUD" not in names_sent(trace)


def test_a_wrong_stored_digest_fails_the_cycle_saying_what_to_do(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    board = make_board(Faults(flash_corrupt=True, boot_chatter=False))
    result = run(station, board)
    assert result.failure is not None
    assert result.failure.code == "readback.stored-digest"
    assert "stored a different certificate chain than it was sent" in result.failure.message
    assert "set it aside" in result.failure.message
    assert "GET_CERT" not in names_sent(trace)


def test_a_failed_cycle_also_returns_the_board_to_the_default_rate(
    station: StationContext, make_board: MakeBoard, trace: pytest.LogCaptureFixture
) -> None:
    board = make_board(Faults(bauds=FAST, flash_fail=True, boot_chatter=False))
    result = run(dataclasses.replace(station, max_baud=921600), board)
    assert result.failure is not None
    assert result.baud == 921600
    assert names_sent(trace)[-1] == "BAUD"
    assert board.rate.rate == 115200
    assert hello_probe(board.url) is not None
