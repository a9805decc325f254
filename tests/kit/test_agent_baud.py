"""The C agent's negotiated baud rate and stored-chain digest (SPEC.md 1.2) on its real pty,
frame by frame: the switch after the BAUD answer (the pty's termios shows the agent's
tcsetattr), the proof and the confirmation, the fall-back on its own, the idle return, the rates
it does not offer, and the final PUT_CERT chunk's `sha` of the chain it stored."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

from device_protocol.framing import SEQ_MODULO, Frame, encode
from device_protocol.link import Link
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult
from station.engine.station import StationContext

from .raw_line import RawLine
from .running import Agent

StartAgent = Callable[..., Agent]
DEFAULT = 115200
PROBATION = 2.0
IDLE = 5.0


def switch(line: RawLine, rate: int) -> float:
    """BAUD to rate: the OK, then the agent's own switch of the pty; the time of the OK."""
    answer = line.request("BAUD", rate=str(rate))
    at = time.monotonic()
    assert (answer.name, answer.get("rate")) == ("OK", str(rate)), answer
    line.wait_speed(rate, timeout=1.0)
    line.drain()
    return at


def hold(line: RawLine, rate: int, seconds: float) -> None:
    """Watch the line for seconds: its speed stays rate throughout."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        assert line.speed() == rate
        assert line.answer(-1, timeout=min(0.05, left)) is None


def test_hello_announces_bauds_and_fits_the_mtu_in_its_worst_case(start_agent: StartAgent) -> None:
    with RawLine(start_agent().url) as line:
        hello = line.request("HELLO", v="1")
    assert hello.get("bauds") == "230400,460800,921600"
    mtu = int(hello.fields["mtu"])
    worst = dict(hello.fields, state="certified", kt="rsa-2048")
    length = len(encode(Frame(seq=SEQ_MODULO - 1, name="OK", fields=worst)))
    assert length <= mtu == 256, (length, mtu)


def test_a_confirmed_switch_keeps_the_rate_until_baud_returns_to_the_default(
    start_agent: StartAgent,
) -> None:
    with RawLine(start_agent().url) as line:
        uid = line.request("HELLO", v="1").fields["uid"]
        assert line.speed() == DEFAULT
        switched = switch(line, 921600)
        proof = line.request("HELLO", v="1", timeout=0.25)
        assert (proof.name, proof.get("uid")) == ("OK", uid)
        keygen = line.request("KEYGEN", kt="ec-p256")  # any request after the proof confirms
        assert keygen.name == "OK", keygen
        hold(line, 921600, switched + PROBATION + 0.5 - time.monotonic())
        assert line.request("HELLO", v="1").get("state") == "keyed"
        back = line.request("BAUD", rate=str(DEFAULT))
        assert (back.name, back.get("rate")) == ("OK", str(DEFAULT))
        line.wait_speed(DEFAULT, timeout=1.0)
        assert line.request("HELLO", v="1").get("uid") == uid


def test_an_unconfirmed_switch_falls_back_to_the_default_on_its_own(
    start_agent: StartAgent,
) -> None:
    with RawLine(start_agent().url) as line:
        line.request("HELLO", v="1")
        sent = switch(line, 460800)  # then the station stays silent
        line.wait_speed(DEFAULT, timeout=PROBATION + 1.0)
        took = time.monotonic() - sent
        assert PROBATION - 0.1 <= took <= PROBATION + 0.2 + 0.1, took
        assert line.request("HELLO", v="1").name == "OK"


def test_a_repeated_proof_hello_does_not_confirm_the_rate(start_agent: StartAgent) -> None:
    with RawLine(start_agent().url) as line:
        line.request("HELLO", v="1")
        switch(line, 230400)
        proof = line.send("HELLO", v="1")
        assert line.answer(proof.seq) is not None
        again = line.send("HELLO", seq=proof.seq, v="1")  # the same bytes: a re-transmission
        assert line.answer(again.seq) is not None
        line.wait_speed(DEFAULT, timeout=PROBATION + 1.0)
        assert line.request("HELLO", v="1").name == "OK"


def test_an_idle_line_at_a_negotiated_rate_returns_to_the_default(
    start_agent: StartAgent,
) -> None:
    with RawLine(start_agent().url) as line:
        line.request("HELLO", v="1")
        switch(line, 921600)
        line.request("HELLO", v="1")
        line.request("GET_CERT")  # confirms (NO_OBJECT on a blank board: still a valid request)
        quiet = time.monotonic()
        line.wait_speed(DEFAULT, timeout=IDLE + 2.0)
        took = time.monotonic() - quiet
        assert IDLE - 0.1 <= took <= IDLE + 0.5, took
        assert line.request("HELLO", v="1").name == "OK"


def test_a_rate_not_offered_is_bad_request_and_changes_nothing(start_agent: StartAgent) -> None:
    with RawLine(start_agent().url) as line:
        line.request("HELLO", v="1")
        for fields in ({"rate": "57600"}, {"rate": "1000000"}, {"rate": "fast"}, {}):
            answer = line.request("BAUD", **fields)
            assert (answer.name, answer.get("code")) == ("ERR", "2"), (fields, answer)
            assert "bauds" in (answer.get("msg") or "")
        assert line.request("BAUD", rate=str(DEFAULT)).get("rate") == str(DEFAULT)
        assert line.speed() == DEFAULT
        assert line.request("HELLO", v="1").name == "OK"


def test_a_board_without_the_capability_announces_none_and_knows_no_baud(
    start_agent: StartAgent,
) -> None:
    with RawLine(start_agent("plain", "--bauds", "").url) as line:
        assert "bauds" not in line.request("HELLO", v="1").fields
        answer = line.request("BAUD", rate="921600")
        assert (answer.name, answer.get("code")) == ("ERR", "1")  # UNSUPPORTED, as a 1.1 board
        assert line.speed() == DEFAULT


def put_chain(line: RawLine, chain: bytes) -> Frame:
    """PUT_CERT the chain in chunks that fit mtu 256; the final chunk's answer."""
    begin = line.request("PUT_CERT", total=str(len(chain)), sha=hashlib.sha256(chain).hexdigest())
    assert (begin.name, begin.get("next")) == ("OK", "0"), begin
    step = (256 - 44) // 4 * 3
    for off in range(0, len(chain), step):
        data = base64.b64encode(chain[off : off + step]).decode()
        answer = line.request("PUT_CERT", off=str(off), data=data)
        assert answer.name == "OK", answer
    return answer


def test_the_final_chunk_and_get_cert_carry_the_sha_of_the_stored_chain(
    start_agent: StartAgent,
) -> None:
    agent = start_agent()
    chain = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(os.urandom(2200)) * 1
    with RawLine(agent.url) as line:
        line.request("HELLO", v="1")
        assert line.request("KEYGEN", kt="ec-p256").name == "OK"
        final = put_chain(line, chain)
        digest = hashlib.sha256(chain).hexdigest()
        assert final.fields == {"next": str(len(chain)), "done": "1", "sha": digest}
        assert (agent.state / "chain.pem").read_bytes() == chain
        cert = line.request("GET_CERT")
        assert (cert.get("total"), cert.get("sha")) == (str(len(chain)), digest)
        # the flash changes under the board (a worn page): GET_CERT reports what it holds now
        damaged = chain[:-2] + b"?\n"
        (agent.state / "chain.pem").write_bytes(damaged)
        assert line.request("GET_CERT").get("sha") == hashlib.sha256(damaged).hexdigest()


def _provision(station: StationContext, url: str) -> tuple[CycleResult, Link]:
    """One cycle on a jig whose cables carry 921600 baud; the result and the link it ran on."""
    links: list[Link] = []

    def factory(port: str, **kw: Any) -> Link:
        links.append(Link.open_url(port, **kw))
        return links[-1]

    context = dataclasses.replace(station, max_baud=921600)
    result = Cycle(context, "1", url, CycleOptions(operator="op-1"), link_factory=factory).run()
    return result, links[0]


def test_the_station_provisions_the_agent_at_its_negotiated_rate(
    station: StationContext, start_agent: StartAgent
) -> None:
    agent = start_agent()
    result, link = _provision(station, agent.url)
    assert result.passed, result.failure
    assert result.baud == 921600
    assert (link.stats.switches, link.stats.fallbacks) == (1, 0)
    # HELLO and BAUD at the default rate; everything from the proof HELLO on at 921600, where
    # the stored chain's digest stands in for reading the chain back
    assert link.stats.rate_bytes[921600] > 3 * link.stats.rate_bytes[DEFAULT]
    assert link.stats.bytes_in + link.stats.bytes_out < 5000
    with RawLine(agent.url) as line:  # the agent is back at the default rate, as is its pty
        assert line.speed() == DEFAULT
        assert line.request("HELLO", v="1").get("state") == "locked"


def test_an_agent_without_the_capability_provisions_at_the_default_rate(
    station: StationContext, start_agent: StartAgent
) -> None:
    agent = start_agent("board", "--bauds", "")
    result, link = _provision(station, agent.url)
    assert result.passed, result.failure
    assert (result.baud, link.stats.switches, set(link.stats.rate_bytes)) == (DEFAULT, 0, {DEFAULT})
