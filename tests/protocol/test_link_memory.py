"""The Link's retries, re-sends, keep-alives and timeouts over a scripted line in memory.

Pure: the far end is a script, time is a fake clock that moves one poll interval per empty
read, so every timeout is exact to a poll interval and the whole file runs in milliseconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Any

import pytest

from device_protocol import messages as m
from device_protocol.errors import DeviceError, Disconnected, ProtocolError, Timeout
from device_protocol.framing import Frame, encode
from device_protocol.link import Link
from device_protocol.transport import POLL
from tests.memory_line import (
    FakeClock,
    Gone,
    Script,
    ScriptedTransport,
    Step,
    Wait,
    busy,
    err,
    ok,
)

HELLO = m.HelloInfo(1, "VB-1", "VB1-0001", "1.0.0", ("ec-p256",), m.BoardState.BLANK, 256)


def link_to(script: Script, clock: FakeClock, **kw: Any) -> tuple[Link, ScriptedTransport]:
    line = ScriptedTransport(script, clock)
    return Link(line, clock=clock, **kw), line


class Answers:
    """Answers each transmission in turn from a list of scripts (the last one repeats)."""

    def __init__(self, *replies: Script | list[Step]) -> None:
        self.replies = list(replies)
        self.count = 0

    def __call__(self, frame: Frame) -> Iterable[Step]:
        reply = self.replies[min(self.count, len(self.replies) - 1)]
        self.count += 1
        return reply(frame) if callable(reply) else reply


def hello_ok(frame: Frame) -> list[Step]:
    return [ok(frame.seq, HELLO)]


def silent(frame: Frame) -> list[Step]:
    return []


def test_an_answer_comes_back_typed() -> None:
    clock = FakeClock()
    link, line = link_to(hello_ok, clock, timeout=2.0)
    assert link.hello() == HELLO
    assert [f.name for f in line.sent] == ["HELLO"]
    assert (link.stats.requests, link.stats.retries, link.stats.resends) == (1, 0, 0)
    assert link.mtu == 256


def test_silence_times_out_after_every_retry_at_the_exact_time() -> None:
    clock = FakeClock()
    link, line = link_to(silent, clock, timeout=0.5, retries=2)
    start = clock()
    with pytest.raises(Timeout) as hung:
        link.hello()
    assert clock() - start == pytest.approx(1.5, abs=3 * POLL)  # 3 sends x 0.5 s
    assert hung.value.request == "HELLO"
    assert "no answer to HELLO within 0.5 s after 2 retries" in str(hung.value)
    assert link.stats.retries == 2
    assert len({f.seq for f in line.sent}) == 1
    assert len(line.sent) == 3


def test_a_lost_answer_is_retried_with_the_same_sequence_number() -> None:
    clock = FakeClock()
    link, line = link_to(Answers(silent, hello_ok), clock, timeout=2.0, retries=3)
    start = clock()
    assert link.hello().uid == "VB1-0001"
    assert clock() - start == pytest.approx(2.0, abs=POLL)
    assert link.stats.retries == 1
    assert [f.seq for f in line.sent] == [line.sent[0].seq] * 2


def test_a_damaged_answer_is_re_sent_at_once() -> None:
    def damaged(frame: Frame) -> list[Step]:
        good = ok(frame.seq, HELLO)
        return [good[:10] + b"X" + good[11:]]  # CRC no longer matches

    clock = FakeClock()
    link, line = link_to(Answers(damaged, hello_ok), clock, timeout=2.0)
    start = clock()
    assert link.hello().uid == "VB1-0001"
    assert clock() - start < 0.2  # no timeout waited for
    assert (link.stats.resends, link.stats.retries) == (1, 0)
    assert len(line.sent) == 2
    assert link.stats.rejected


def test_a_nak_from_the_board_is_re_sent_at_once() -> None:
    nak = encode(Frame(seq=0, name=m.NAK))
    clock = FakeClock()
    link, _ = link_to(Answers([nak], hello_ok), clock, timeout=2.0)
    assert link.hello().uid == "VB1-0001"
    assert link.stats.resends == 1
    assert "NAK from the board" in link.stats.rejected


def test_endless_damage_is_a_protocol_error_naming_the_line() -> None:
    clock = FakeClock()
    link, _ = link_to(lambda f: [b"~P1 1 OK *00000000\n"], clock, timeout=2.0, resends=5)
    with pytest.raises(ProtocolError, match="6 damaged frames in a row; the line is too noisy"):
        link.hello()
    assert link.stats.resends == 5


def test_busy_keepalives_carry_a_long_keygen_past_the_timeout() -> None:
    def slow_keygen(frame: Frame) -> list[Step]:
        steps: list[Step] = []
        for pct in range(0, 100, 10):  # ten keep-alives 1.5 s apart: 15 s of work
            steps += [Wait(1.5), busy(frame.seq, pct)]
        return [*steps, Wait(1.0), ok(frame.seq, m.KeyInfo("ec-p256"))]

    clock = FakeClock()
    progress: list[tuple[str, int, int]] = []
    link, line = link_to(slow_keygen, clock, timeout=2.0, on_progress=lambda *p: progress.append(p))
    start = clock()
    assert link.keygen("ec-p256").key_type == "ec-p256"
    assert clock() - start == pytest.approx(16.0, abs=POLL)
    assert (link.stats.keepalives, link.stats.retries) == (10, 0)
    assert len(line.sent) == 1
    assert progress[0] == ("KEYGEN", 0, 100)
    assert progress[-1] == ("KEYGEN", 90, 100)


def test_keepalives_do_not_extend_a_request_past_its_deadline() -> None:
    def forever(frame: Frame) -> list[Step]:
        return [step for _ in range(1000) for step in (Wait(1.0), busy(frame.seq))]

    clock = FakeClock()
    link, _ = link_to(forever, clock, timeout=2.0)
    start = clock()
    with pytest.raises(Timeout, match="KEYGEN did not finish in time"):
        link.keygen("ec-p256", deadline=30.0)
    assert clock() - start == pytest.approx(30.0, abs=POLL)


def test_a_busy_pause_longer_than_the_timeout_is_retried() -> None:
    def too_slow(frame: Frame) -> list[Step]:
        return [busy(frame.seq), Wait(2.5), ok(frame.seq, m.KeyInfo("ec-p256"))]

    clock = FakeClock()
    link, line = link_to(too_slow, clock, timeout=2.0, retries=3)
    assert link.keygen("ec-p256").key_type == "ec-p256"
    assert link.stats.retries == 1
    assert len(line.sent) == 2


def test_stale_answers_and_console_text_are_passed_over() -> None:
    def chatty(frame: Frame) -> list[Step]:
        return [
            b"I (120) wifi: scanning\n",
            ok((frame.seq + 7) % 65535 or 1, HELLO),  # an old answer, another sequence number
            ok(frame.seq, HELLO),
        ]

    clock = FakeClock()
    console: list[str] = []
    link, _ = link_to(chatty, clock, on_console=console.append)
    assert link.hello().uid == "VB1-0001"
    assert link.stats.stale_frames == 1
    assert console == ["I (120) wifi: scanning"]


def test_an_err_answer_is_a_device_error_with_its_status() -> None:
    clock = FakeClock()
    link, line = link_to(
        lambda f: [err(f.seq, m.Status.UNSUPPORTED_KEY, "no rsa here")], clock, retries=3
    )
    with pytest.raises(DeviceError) as refused:
        link.keygen("rsa-2048")
    assert refused.value.status == m.Status.UNSUPPORTED_KEY
    assert "UNSUPPORTED_KEY (6) no rsa here" in str(refused.value)
    assert len(line.sent) == 1  # an answer, not a reason to retry


def test_a_line_that_vanishes_names_the_request_being_answered() -> None:
    clock = FakeClock()
    link, line = link_to(Answers(hello_ok, [Gone("the port returned no data")]), clock)
    link.hello()
    with pytest.raises(Disconnected) as gone:
        link.get_csr()
    assert gone.value.request == "GET_CSR"
    assert "the board left the line while answering GET_CSR (the port returned no data)" in str(
        gone.value
    )
    assert "reseat" in str(gone.value)
    assert line.closed


def test_bytes_without_frames_point_at_the_baud_rate() -> None:
    clock = FakeClock()
    link, _ = link_to(lambda f: [b"\xf0\x0f\xaa garbage\n"], clock, baudrate=9600, retries=0)
    with pytest.raises(Timeout) as hung:
        link.hello()
    assert "not one valid frame in answer to HELLO: check the baud rate (9600)" in str(hung.value)


def test_closing_the_link_closes_its_transport() -> None:
    clock = FakeClock()
    with link_to(hello_ok, clock)[0] as link:
        link.hello()
    assert link.transport.closed  # type: ignore[attr-defined]
    with pytest.raises(Disconnected, match="the port is closed"):
        link.hello()


# ---- SPEC.md 1.3: inline object bytes, text chunks --------------------------------------------

SIG = bytes(range(70))


def _signer(inline: bytes | None) -> Script:
    """A board that answers SIGN with ``inline`` as its data, and READ sig from any offset."""

    def script(frame: Frame) -> list[Step]:
        if frame.name == "HELLO":
            return [ok(frame.seq, HELLO)]
        if frame.name == "SIGN":
            info = m.ObjectInfo(len(SIG), hashlib.sha256(SIG).digest(), "ecdsa-sha256", inline)
            return [ok(frame.seq, info)]
        off = int(frame.fields["off"])
        return [ok(frame.seq, m.Chunk(off, SIG[off : off + 40]))]

    return script


@pytest.mark.parametrize(
    ("inline", "reads"),
    [
        pytest.param(None, ["0", "40"], id="ok/no-inline-read-from-0"),
        pytest.param(SIG[:50], ["50"], id="ok/inline-then-read-the-rest"),
        pytest.param(SIG, [], id="ok/whole-object-inline"),
    ],
)
def test_an_object_is_read_from_where_its_inline_bytes_end(
    inline: bytes | None, reads: list[str]
) -> None:
    link, line = link_to(_signer(inline), FakeClock())
    link.hello()
    assert link.sign(b"c" * 32) == (SIG, "ecdsa-sha256")
    assert [f.fields["off"] for f in line.sent if f.name == "READ"] == reads


def test_inline_bytes_longer_than_the_object_are_the_boards_fault() -> None:
    def script(frame: Frame) -> list[Step]:
        if frame.name == "HELLO":
            return [ok(frame.seq, HELLO)]
        fields = {"total": "4", "sha": hashlib.sha256(b"abcd").hexdigest(), "data": "YWJjZGU="}
        return [ok(frame.seq, **fields)]

    link, _ = link_to(script, FakeClock())
    link.hello()
    with pytest.raises(ProtocolError) as bad:
        link.sign(b"c" * 32)
    assert "bad answer to SIGN: field 'data' holds 5 bytes, more than total=4" in str(bad.value)


def _chain_board(caps: tuple[str, ...]) -> tuple[Script, list[Frame]]:
    chunks: list[Frame] = []
    hello = dataclasses.replace(HELLO, caps=caps)
    got = bytearray()

    def script(frame: Frame) -> list[Step]:
        if frame.name == "HELLO":
            return [ok(frame.seq, hello)]
        if "total" in frame.fields:
            return [ok(frame.seq, m.Accepted(0))]
        chunks.append(frame)
        got.extend(m.PutCertChunk.from_fields(frame.fields).data)
        return [ok(frame.seq, m.Accepted(len(got), done=len(got) == 600))]

    return script, chunks


@pytest.mark.parametrize(
    ("caps", "chain", "field"),
    [
        pytest.param(("text",), b"-----BEGIN\n" + b"A" * 589, "text", id="ok/text-to-caps-text"),
        pytest.param(("zip", "text"), b"x" * 600, "text", id="ok/unknown-caps-ignored"),
        pytest.param((), b"x" * 600, "data", id="ok/no-caps-data"),
        pytest.param(("zip",), b"x" * 600, "data", id="ok/other-caps-data"),
        pytest.param(("text",), bytes(range(256)) + b"\xff" * 344, "data", id="ok/binary-data"),
    ],
)
def test_chunks_go_as_text_only_to_a_board_that_announced_text(
    caps: tuple[str, ...], chain: bytes, field: str
) -> None:
    script, chunks = _chain_board(caps)
    link, _ = link_to(script, FakeClock())
    link.hello()
    link.put_cert(chain)
    assert chunks
    assert all(set(f.fields) == {"off", field} for f in chunks)
