"""The codec's fast paths give exactly what the plain codec gave (reference_framing.py here):
the same bytes for every frame, the same events, stats and buffer for every byte stream in any
chunking, and the Link's worst-case request length without a second encoding."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_protocol import framing
from device_protocol import messages as m
from device_protocol.errors import ProtocolError
from device_protocol.escapes import pct_encode
from device_protocol.framing import Frame, encode
from device_protocol.link import Link, worst_case_length
from tests.memory_line import FakeClock, ScriptedTransport, Step, ok
from tests.protocol import reference_framing as reference
from tests.protocol.test_framing import CUTS, FRAMES, NOISE, split

MANY = settings(max_examples=1000, deadline=None)
#: Streams of whole frames cost more per example (a pure test stays under 5 s of CPU).
STREAMS = settings(max_examples=300, deadline=None)
# Names and keys from any text: valid ones, and ones the grammar refuses.
ANY_NAMES = st.one_of(st.sampled_from(["OK", "PUT_CERT", "X_1", "ok", "", "A" * 17]), st.text())
ANY_KEYS = st.one_of(st.sampled_from(["off", "data", "k_1", "Off", "", "a" * 17]), st.text())
ANY_FRAMES = st.builds(
    Frame,
    seq=st.integers(-2, 65537),
    name=ANY_NAMES,
    fields=st.dictionaries(ANY_KEYS, st.text(), max_size=4),
    version=st.integers(-1, 1000),
)


def _encoded(codec: Any, frame: Any) -> bytes | str:
    """The codec's bytes for ``frame``, or the words of its FrameError."""
    try:
        return bytes(codec.encode(frame))
    except codec.FrameError as e:
        return f"FrameError: {e}"


def _reference_frame(frame: Frame) -> reference.Frame:
    return reference.Frame(frame.seq, frame.name, dict(frame.fields), frame.version)


@MANY
@given(FRAMES)
def test_encode_gives_the_reference_bytes(frame: Frame) -> None:
    assert encode(frame) == reference.encode(_reference_frame(frame))


@MANY
@given(ANY_FRAMES)
def test_encode_refuses_what_the_reference_refuses_with_its_words(frame: Frame) -> None:
    assert _encoded(framing, frame) == _encoded(reference, _reference_frame(frame))


def _as_tuples(events: list[Any]) -> list[tuple[Any, ...]]:
    """Events of either codec as comparable tuples (the classes are distinct)."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        name = type(e).__name__
        if name == "Frame":
            out.append((name, e.seq, e.name, dict(e.fields), e.version))
        elif name == "ConsoleLine":
            out.append((name, e.text, e.partial))
        else:
            out.append((name, e.reason, e.raw, e.too_long))
    return out


def _same_decoding(data: bytes, cuts: list[int], max_line: int) -> None:
    ours, theirs = framing.Decoder(max_line), reference.Decoder(max_line)
    for chunk in split(data, cuts):
        assert _as_tuples(ours.feed(chunk)) == _as_tuples(theirs.feed(chunk))
        assert ours.pending == theirs.pending
        assert ours._after_frame == theirs._after_frame
        assert ours._discarding == theirs._discarding
    assert ours.stats.__dict__ == theirs.stats.__dict__


@MANY
@given(NOISE, CUTS, st.sampled_from([16, 40, 128, 4096]))
def test_the_decoder_makes_the_reference_events_of_any_bytes(
    data: bytes, cuts: list[int], max_line: int
) -> None:
    _same_decoding(data, cuts, max_line)


@STREAMS
@given(st.lists(FRAMES.map(encode), max_size=8), CUTS, st.sampled_from([64, 256, 4096]))
def test_the_decoder_makes_the_reference_events_of_frame_traffic(
    lines: list[bytes], cuts: list[int], max_line: int
) -> None:
    _same_decoding(b"".join(lines), cuts, max_line)


def test_a_cycles_worth_of_traffic_decodes_as_the_reference_does() -> None:
    """Answers as a board sends them (a console line now and then, some with CRLF), whole
    and in every read size from 1 byte up."""
    lines = []
    for seq in range(1, 200):
        fields = {"off": str(seq * 162), "data": pct_encode("x").decode()}
        if seq % 3 == 0:
            fields["data"] = os.urandom(120).hex()
        line = encode(Frame(seq=seq, name="OK", fields=fields))
        lines.append(line if seq % 5 else line[:-1] + b"\r\n")
        if seq % 17 == 0:
            lines.append(b"I (1234) app: keygen done\n")
    data = b"".join(lines)
    for size in (1, 2, 7, 64, 255, 4096, len(data)):
        _same_decoding(data, list(range(size, len(data), size)), 256)
    line_ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    _same_decoding(data, line_ends, 256)  # a line per read, as a board's answers arrive


@STREAMS
@given(st.lists(st.one_of(FRAMES.map(encode), NOISE), max_size=6), st.sampled_from([40, 256]))
def test_a_line_per_read_decodes_as_the_reference_does(lines: list[bytes], max_line: int) -> None:
    data = b"".join(lines)
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    _same_decoding(data, ends, max_line)


def _echo(frame: Frame) -> list[Step]:
    return [ok(frame.seq, m.Accepted(next=0, done=False))]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 65535), st.binary(min_size=1, max_size=200), st.integers(0, 1 << 20))
def test_the_link_checks_the_worst_case_length_without_a_second_encoding(
    seq: int, piece: bytes, off: int
) -> None:
    request = m.PutCertChunk(off, piece)
    worst = worst_case_length(request)
    link = Link(ScriptedTransport(_echo, FakeClock()), clock=FakeClock())
    link._seq = seq - 1  # the next request goes out with ``seq``
    link.mtu = worst
    link.call(request)
    link.mtu = worst - 1
    with pytest.raises(ProtocolError, match=f"needs up to {worst} bytes, over the board's mtu"):
        link.call(request)
