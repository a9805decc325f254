"""The negotiated baud rate and the stored-chain digest (SPEC.md 1.2) on the Cortex-M4 build
under QEMU. QEMU's CMSDK UART takes the rate from BAUDDIV (its trace event reports each change:
the board's real register write), but its pty moves bytes at no particular rate and keeps its
termios, so the switch shows in QEMU's trace, not on the pty."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path

from device_protocol.framing import SEQ_MODULO, Frame, encode

from .raw_line import RawLine
from .running import Agent
from .test_agent_baud import DEFAULT, PROBATION, hold, put_chain

StartQemu = Callable[..., Agent]
TRACE = ("-trace", "cmsdk_apb_uart_set_params")
_SET = re.compile(r"cmsdk_apb_uart_set_params .* params set to (\d+) ")


def bauddiv_rate(rate: int) -> int:
    """The rate QEMU reports for BAUDDIV = 25 MHz / rate, rounded (what hal_mps2.c writes)."""
    return 25_000_000 // ((25_000_000 + rate // 2) // rate)


class UartTrace:
    """The UART rates the board has set, from QEMU's trace in the board's log."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def rates(self) -> list[int]:
        return [int(x) for x in _SET.findall(self.log.read_text())]

    def wait(self, count: int, timeout: float) -> list[int]:
        """Poll until count rates have been set; them (an AssertionError if not in time)."""
        deadline = time.monotonic() + timeout
        while len(found := self.rates()) < count:
            assert time.monotonic() < deadline, f"rates set so far: {found}"
            time.sleep(0.005)
        return found


def start(start_qemu: StartQemu, name: str) -> tuple[Agent, UartTrace]:
    board = start_qemu(name, *TRACE)
    return board, UartTrace(board.state.parent / f"qemu-{name}.log")


def test_hello_announces_what_the_cmsdk_uart_can_do(start_qemu: StartQemu) -> None:
    board, trace = start(start_qemu, "hello")
    with RawLine(board.url) as line:
        hello = line.request("HELLO", v="1")
    assert hello.get("bauds") == "230400,460800,921600"
    worst = dict(hello.fields, state="certified", kt="rsa-2048")
    length = len(encode(Frame(seq=SEQ_MODULO - 1, name="OK", fields=worst)))
    assert length <= int(hello.fields["mtu"]) == 256
    assert trace.rates() == [bauddiv_rate(DEFAULT)]  # board_init: 115200 from reset


def test_switch_confirm_and_return_set_bauddiv(start_qemu: StartQemu) -> None:
    board, trace = start(start_qemu, "switch")
    with RawLine(board.url) as line:
        uid = line.request("HELLO", v="1").fields["uid"]
        pty = line.speed()
        answer = line.request("BAUD", rate="921600")
        switched = time.monotonic()
        assert (answer.name, answer.get("rate")) == ("OK", "921600")
        assert trace.wait(2, timeout=1.0)[1] == bauddiv_rate(921600)
        assert line.request("HELLO", v="1", timeout=0.25).get("uid") == uid
        assert line.request("KEYGEN", kt="ec-p256").name == "OK"  # confirms
        hold(line, pty, switched + PROBATION + 0.5 - time.monotonic())  # QEMU's pty keeps its own
        assert line.request("HELLO", v="1").get("state") == "keyed"
        assert len(trace.rates()) == 2  # no fall-back
        assert line.request("BAUD", rate=str(DEFAULT)).name == "OK"
        assert trace.wait(3, timeout=1.0)[2] == bauddiv_rate(DEFAULT)
        assert line.request("HELLO", v="1").name == "OK"
    assert board.stop() == 0


def test_an_unconfirmed_switch_falls_back_on_its_own(start_qemu: StartQemu) -> None:
    board, trace = start(start_qemu, "fallback")
    with RawLine(board.url) as line:
        line.request("HELLO", v="1")
        assert line.request("BAUD", rate="460800").name == "OK"
        sent = time.monotonic()
        trace.wait(3, timeout=PROBATION + 1.5)
        took = time.monotonic() - sent
        assert trace.rates()[1:] == [bauddiv_rate(460800), bauddiv_rate(DEFAULT)]
        assert PROBATION - 0.1 <= took <= PROBATION + 0.2 + 0.3, took  # 0.3: the log's poll
        assert line.request("HELLO", v="1").name == "OK"


def test_the_final_chunk_carries_the_sha_of_the_stored_chain(start_qemu: StartQemu) -> None:
    board, _ = start(start_qemu, "sha")
    chain = b"-----BEGIN CERTIFICATE-----\n" + bytes(range(33, 127)) * 30 + b"\n"
    digest = hashlib.sha256(chain).hexdigest()
    with RawLine(board.url) as line:
        line.request("HELLO", v="1")
        assert line.request("KEYGEN", kt="ec-p256").name == "OK"
        assert put_chain(line, chain).get("sha") == digest
        assert line.request("GET_CERT").get("sha") == digest
    assert (board.state / "chain.pem").read_bytes() == chain
