"""The station's rate switch (SPEC.md 7.10) on a line in memory, with exact timings: BAUD sent
once, the proof HELLO's two short tries, the fallback's wait past the board's probation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from device_protocol import messages as m
from device_protocol.framing import Frame, encode
from device_protocol.link import Link
from device_protocol.rate_switch import (
    FALLBACK_MARGIN,
    PROBATION,
    PROOF_TIMEOUT,
    SWITCH_GAP,
    choose_rate,
    return_to_default,
    switch_rate,
)
from tests.memory_line import FakeClock, ScriptedTransport, Step, ok

UID = "3C71BF4A92D0"
HELLO = m.HelloInfo(1, "WX-200", UID, "1.0", ("ec-p256",), m.BoardState.BLANK, 256)


def line(script: Callable[[Frame, ScriptedTransport], list[Step]]) -> tuple[Link, FakeClock]:
    clock = FakeClock()
    transport: ScriptedTransport

    def far_end(frame: Frame) -> list[Step]:
        return script(frame, transport)

    transport = ScriptedTransport(far_end, clock)
    return Link(transport, baudrate=115200, clock=clock, sleep=clock.advance), clock


def test_choose_rate_takes_the_highest_within_max_baud_and_not_failed() -> None:
    assert choose_rate((230400, 460800, 921600), 921600) == 921600
    assert choose_rate((230400, 460800, 921600), 500000) == 460800
    assert choose_rate((230400, 921600), 921600, failed={921600}) == 230400
    assert choose_rate((230400,), 115200) is None
    assert choose_rate((), 921600) is None


def test_a_clean_switch_proves_the_rate_with_hello_after_the_gap() -> None:
    times: dict[str, float] = {}

    def board(frame: Frame, t: ScriptedTransport) -> list[Step]:
        times.setdefault(frame.name, t.clock())
        if frame.name == "BAUD":
            return [ok(frame.seq, m.RateInfo(921600))]
        return [ok(frame.seq, HELLO)]

    link, _ = line(board)
    result = switch_rate(link, 921600, UID)
    assert not result.fell_back
    assert result.rate == 921600 == link.rate
    assert link.transport.rates == [921600]  # type: ignore[attr-defined]
    assert times["HELLO"] - times["BAUD"] >= SWITCH_GAP - 1e-9
    assert link.stats.switches == 1


def test_baud_unanswered_is_never_resent_and_the_station_waits_out_the_probation() -> None:
    sends: list[tuple[str, float]] = []

    def board(frame: Frame, t: ScriptedTransport) -> list[Step]:
        sends.append((frame.name, t.clock()))
        return [] if frame.name == "BAUD" else [ok(frame.seq, HELLO)]

    link, _ = line(board)
    result = switch_rate(link, 921600, UID)
    assert result.fell_back
    assert result.rate == 115200 == link.rate
    assert "BAUD 921600 got no valid answer" in result.reason
    assert [name for name, _ in sends] == ["BAUD", "HELLO"]
    (_, baud_at), (_, hello_at) = sends
    assert hello_at >= baud_at + PROBATION + FALLBACK_MARGIN
    assert link.stats.fallbacks == 1


def test_baud_is_resent_after_a_clean_nak_only() -> None:
    names: list[str] = []
    nak = b"~P1 0 NAK*4ac7d651\n"

    def board(frame: Frame, t: ScriptedTransport) -> list[Step]:
        names.append(frame.name)
        if frame.name == "BAUD":
            return [nak] if names.count("BAUD") == 1 else [ok(frame.seq, m.RateInfo(460800))]
        return [ok(frame.seq, HELLO)]

    link, _ = line(board)
    assert not switch_rate(link, 460800, UID).fell_back
    assert names == ["BAUD", "BAUD", "HELLO"]


def test_a_failed_proof_is_two_short_hellos_then_the_fallback() -> None:
    sends: list[tuple[str, float]] = []

    def board(frame: Frame, t: ScriptedTransport) -> list[Step]:
        sends.append((frame.name, t.clock()))
        if frame.name == "BAUD":
            return [ok(frame.seq, m.RateInfo(921600))]
        if t.rates[-1] == 921600:
            return []  # garbled at the new rate: nothing valid comes back
        return [ok(frame.seq, HELLO)]

    link, _ = line(board)
    result = switch_rate(link, 921600, UID)
    assert result.fell_back
    assert link.rate == 115200
    names = [name for name, _ in sends]
    assert names == ["BAUD", "HELLO", "HELLO", "HELLO"]
    proof1, proof2 = sends[1][1], sends[2][1]
    assert proof2 - proof1 == pytest.approx(PROOF_TIMEOUT, abs=0.06)
    assert sends[3][1] >= sends[0][1] + PROBATION + FALLBACK_MARGIN


def test_a_refused_baud_keeps_the_default_rate_without_waiting() -> None:
    def board(frame: Frame, t: ScriptedTransport) -> list[Step]:
        failure = m.Failure(int(m.Status.BAD_REQUEST), "rate 921600 is not one of 115200")
        return [encode(Frame(seq=frame.seq, name=m.ERR, fields=failure.to_fields()))]

    link, clock = line(board)
    start = clock()
    result = switch_rate(link, 921600, UID)
    assert result.fell_back
    assert "refused BAUD 921600" in result.reason
    assert clock() - start < 1.0
    assert link.transport.rates == []  # type: ignore[attr-defined]


def test_return_asks_once_and_puts_the_port_back_even_when_unanswered() -> None:
    names: list[str] = []

    def board(frame: Frame, t: ScriptedTransport) -> list[Step]:
        names.append(frame.name)
        return []

    link, _ = line(board)
    link.set_rate(921600)
    return_to_default(link)
    assert names == ["BAUD"]
    assert link.rate == 115200
    assert link.transport.rates[-1] == 115200  # type: ignore[attr-defined]
