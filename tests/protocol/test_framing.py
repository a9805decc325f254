"""The frame codec (SPEC.md section 2): properties, table cases, and the spec's own examples.

The decoder faces a UART shared with a console log: arbitrary bytes, any chunking, endless lines.
It must never raise, stay within its line limit, and find the next valid frame exactly.
"""

from __future__ import annotations

import itertools
import re
import string
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from device_protocol import framing
from device_protocol.framing import (
    ConsoleLine,
    Decoder,
    Event,
    Frame,
    FrameError,
    Rejected,
    crc32,
    encode,
    parse_line,
)

SPEC = Path(framing.__file__).with_name("SPEC.md")
MIN_MTU = 128
FAST = settings(max_examples=200, deadline=None)

_UPPER, _LOWER, _TAIL = string.ascii_uppercase, string.ascii_lowercase, string.digits + "_"
NAMES = st.builds(str.__add__, st.sampled_from(_UPPER), st.text(_UPPER + _TAIL, max_size=15))
KEYS = st.builds(str.__add__, st.sampled_from(_LOWER), st.text(_LOWER + _TAIL, max_size=15))
# Any UTF-8 text, with extra weight on what must be escaped.
VALUES = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from("%*~ =\r\n\t\x00\x7f+/é")),
    max_size=30,
)
FRAMES = st.builds(
    Frame,
    seq=st.integers(0, 65535),
    name=NAMES,
    fields=st.dictionaries(KEYS, VALUES, max_size=5),
    version=st.integers(0, 999),
)
# Byte soup that looks like our traffic: fragments of frames, markers, line ends, binary noise.
_SMALL_FRAMES = st.builds(
    Frame,
    seq=st.integers(0, 65535),
    name=st.sampled_from(["OK", "ERR", "BUSY", "READ", "X_1"]),
    fields=st.dictionaries(st.sampled_from(["v", "off", "data", "msg"]), VALUES, max_size=2),
)
NOISE = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"~P", b"~P1 ", b"\n", b"\r\n", b"*", b"%", b"=", b" ", b"~", b"\xff"]),
        _SMALL_FRAMES.map(encode),
        _SMALL_FRAMES.map(lambda f: encode(f)[:-1]),
    ),
    max_size=20,
).map(b"".join)
CUTS = st.lists(st.integers(min_value=0), max_size=12)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (an arbitrary chunking, as reads from a port give)."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def feed_all(decoder: Decoder, chunks: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
        assert decoder.pending <= decoder.max_line
    return events


def line_with_crc(body: bytes, crc_format: str = "%08x") -> bytes:
    return b"~" + body + b"*" + (crc_format % crc32(body)).encode()


# ---- CRC and encoding ------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert crc32(b"123456789") == 0xCBF43926


def test_encode_writes_lowercase_crc_and_uppercase_escapes() -> None:
    body = b"P1 9 BUSY msg=W%C3%A4gen%203%20%7E100%25%2A"
    wire = encode(Frame(seq=9, name="BUSY", fields={"msg": "Wägen 3 ~100%*"}))
    assert wire == b"~" + body + b"*%08x\n" % crc32(body)
    assert re.fullmatch(rb"~[^~*]+\*[0-9a-f]{8}\n", wire)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        pytest.param(Frame(-1, "HELLO"), "sequence number -1 out of range", id="fail/seq-neg"),
        pytest.param(Frame(65536, "HELLO"), "sequence number 65536 out", id="fail/seq-big"),
        pytest.param(Frame(1, "hello"), "invalid message name 'hello'", id="fail/name-lower"),
        pytest.param(Frame(1, "A" * 17), "invalid message name", id="fail/name-long"),
        pytest.param(Frame(1, "HÉLLO"), "invalid message name", id="fail/name-non-ascii"),
        pytest.param(Frame(1, "OK", {"Bad": "1"}), "invalid field name 'Bad'", id="fail/key"),
        pytest.param(Frame(1, "OK", {"a" * 17: "1"}), "invalid field name", id="fail/key-long"),
        pytest.param(Frame(1, "OK", {"": "1"}), "invalid field name ''", id="fail/key-empty"),
        pytest.param(Frame(1, "OK", {}, 1000), "protocol version 1000 out", id="fail/version"),
        pytest.param(Frame(1, "OK", {}, -1), "protocol version -1 out", id="fail/version-neg"),
        pytest.param(
            Frame(1, "OK", {"msg": "\ud800"}), "field 'msg' is not encodable", id="fail/surrogate"
        ),
    ],
)
def test_encode_refuses_what_the_grammar_cannot_express(frame: Frame, message: str) -> None:
    with pytest.raises(FrameError, match=re.escape(message)):
        encode(frame)


# ---- table cases: one line --------------------------------------------------------------------

_OK = Frame(seq=7, name="OK", fields={"v": "1"})
_GOOD = line_with_crc(b"P1 7 OK v=1")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(_GOOD, [_OK], id="ok/plain"),
        pytest.param(line_with_crc(b"P1 7 OK v=1", "%08X"), [_OK], id="ok/uppercase-crc"),
        pytest.param(_GOOD + b"\r\r", [_OK], id="ok/trailing-crs"),
        pytest.param(
            line_with_crc(b"P1 7 OK m=%c3%a4%2a"),
            [Frame(7, "OK", {"m": "ä*"})],
            id="ok/lowercase-escape",
        ),
        pytest.param(line_with_crc(b"P1 7 OK m=a=b"), [Frame(7, "OK", {"m": "a=b"})], id="ok/eq"),
        pytest.param(line_with_crc(b"P1 7 OK m="), [Frame(7, "OK", {"m": ""})], id="ok/empty"),
        pytest.param(line_with_crc(b"P1 7 LOCK"), [Frame(7, "LOCK")], id="ok/no-fields"),
        pytest.param(line_with_crc(b"P2 7 OK v=1"), [Frame(7, "OK", {"v": "1"}, 2)], id="ok/P2"),
        pytest.param(b"boot: fla" + _GOOD, [ConsoleLine("boot: fla"), _OK], id="ok/console-head"),
        pytest.param(
            b"noise ~Pxx " + _GOOD, [ConsoleLine("noise ~Pxx "), _OK], id="ok/marker-in-console"
        ),
        pytest.param(b"  " + _GOOD, [_OK], id="ok/blank-head-dropped"),
        pytest.param(b"I (42) app: ready", [ConsoleLine("I (42) app: ready")], id="ok/console"),
        pytest.param(b"\xff\x00ok\r", [ConsoleLine("\ufffd\ufffdok")], id="ok/console-binary"),
    ],
)
def test_parse_line_ok(line: bytes, expected: list[Event]) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(_GOOD[:-1] + b"0", "CRC mismatch", id="fail/crc-mismatch"),
        pytest.param(b"~P1 7 OK v=1", "no CRC", id="fail/no-crc"),
        pytest.param(b"~P1 7 OK v=1*1234567", "malformed CRC", id="fail/crc-short"),
        pytest.param(b"~P1 7 OK v=1*1234567g", "malformed CRC", id="fail/crc-not-hex"),
        pytest.param(_GOOD + b" ", "malformed CRC", id="fail/after-crc"),
        pytest.param(_GOOD + b"\rx", "malformed CRC", id="fail/inner-cr"),
        pytest.param(line_with_crc(b"P1 7"), "too few tokens", id="fail/no-name"),
        pytest.param(line_with_crc(b"Px 7 OK"), "malformed header", id="fail/version"),
        pytest.param(line_with_crc(b"P1000 7 OK"), "malformed header", id="fail/version-long"),
        pytest.param(line_with_crc(b"P1 -7 OK"), "malformed header", id="fail/seq-sign"),
        pytest.param(line_with_crc(b"P1 123456 OK"), "malformed header", id="fail/seq-long"),
        pytest.param(line_with_crc(b"P1 7 ok"), "malformed header", id="fail/name-lower"),
        pytest.param(line_with_crc(b"P1 65536 OK"), "sequence number out of range", id="fail/seq"),
        pytest.param(line_with_crc(b"P1 7 OK v"), "malformed field", id="fail/no-eq"),
        pytest.param(line_with_crc(b"P1 7 OK  v=1"), "malformed field", id="fail/double-space"),
        pytest.param(line_with_crc(b"P1 7 OK V=1"), "malformed field", id="fail/key-upper"),
        pytest.param(line_with_crc(b"P1 7 OK v=%4"), "malformed field value", id="fail/escape"),
        pytest.param(line_with_crc(b"P1 7 OK v=%zz"), "malformed field value", id="fail/esc-hex"),
        pytest.param(line_with_crc(b"P1 7 OK v=%FF"), "malformed field value", id="fail/utf8"),
        pytest.param(line_with_crc(b"P1 7 OK v=\xc3\xa4"), "malformed field value", id="fail/raw"),
    ],
)
def test_parse_line_rejects(line: bytes, reason: str) -> None:
    events = parse_line(line)
    assert len(events) == 1
    assert isinstance(events[0], Rejected)
    assert events[0].reason == reason


def test_decoder_counts_what_it_sees() -> None:
    decoder = Decoder(max_line=64)
    events = decoder.feed(b"boot\r\n\r\n\n" + _GOOD + b"\n" + _GOOD[:-1] + b"0\n" + b"x" * 65)
    events += decoder.feed(b"y\n" + _GOOD + b"\n")
    assert [type(e) for e in events] == [ConsoleLine, Frame, Rejected, Rejected, Frame]
    assert decoder.stats.frames == 2
    assert decoder.stats.console_lines == 1
    assert decoder.stats.rejected == 2
    assert decoder.stats.overflows == 1


def test_decoder_refuses_a_tiny_line_limit() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        Decoder(max_line=15)


# ---- properties ---------------------------------------------------------------------------------


@FAST
@given(noise=NOISE, cuts=CUTS, max_line=st.sampled_from([16, 40, 128, 4096]))
def test_decoder_never_raises_and_stays_bounded(
    noise: bytes, cuts: list[int], max_line: int
) -> None:
    decoder = Decoder(max_line=max_line)
    events = feed_all(decoder, split(noise, cuts))
    assert all(isinstance(e, Frame | ConsoleLine | Rejected) for e in events)
    stats = decoder.stats
    assert stats.frames + stats.console_lines + stats.rejected == len(events)


@FAST
@given(noise=st.binary(max_size=600), cuts=CUTS)
def test_decoder_never_raises_on_raw_binary(noise: bytes, cuts: list[int]) -> None:
    feed_all(Decoder(max_line=64), split(noise, cuts))


@FAST
@given(
    line=st.lists(st.binary(min_size=1, max_size=50), min_size=1, max_size=10).map(
        lambda parts: b"".join(parts).replace(b"\n", b"~")
    ),
    max_line=st.integers(16, 300),
    frame=FRAMES,
    cuts=CUTS,
)
def test_endless_line_stays_bounded_then_next_frame_recovers(
    line: bytes, max_line: int, frame: Frame, cuts: list[int]
) -> None:
    wire = encode(frame)
    decoder = Decoder(max_line=max(max_line, len(wire)))
    repeats = decoder.max_line // len(line) + 2  # well past the limit, never an LF
    events = feed_all(decoder, [line] * repeats)
    assert decoder.pending <= decoder.max_line
    # Text with no LF is only ever rejected (too long, or a frame cut short by the next marker),
    # never passed on as a line or a frame.
    assert events
    assert all(isinstance(e, Rejected | ConsoleLine) for e in events)
    if b"~P" not in b"".join([line] * repeats):
        assert decoder.stats.overflows == 1
        assert len(events) == 1
    tail = feed_all(decoder, split(b"\n" + wire, cuts))
    assert tail[-1] == frame
    assert all(isinstance(e, Rejected | ConsoleLine) for e in tail[:-1])


@FAST
@given(noise=NOISE, frame=FRAMES, cuts=CUTS, max_line=st.sampled_from([16, 64, 4096]))
def test_next_frame_after_garbage_is_recovered_exactly(
    noise: bytes, frame: Frame, cuts: list[int], max_line: int
) -> None:
    wire = encode(frame)
    decoder = Decoder(max_line=max(max_line, len(wire)))
    events = feed_all(decoder, split(noise + b"\n" + wire, cuts))
    assert events[-1] == frame


@FAST
@given(noise=NOISE.map(lambda b: b.replace(b"\n", b"").replace(b"*", b"")), frame=FRAMES)
def test_frame_after_garbage_on_the_same_line_is_recovered(noise: bytes, frame: Frame) -> None:
    """Console text or line noise ahead of the marker, even noise holding '~P', loses nothing."""
    events = Decoder(max_line=8192).feed(noise + encode(frame))
    assert events[-1] == frame
    assert all(isinstance(e, ConsoleLine | Rejected) for e in events[:-1])


@FAST
@given(frame=FRAMES, cuts=CUTS)
def test_every_frame_round_trips_through_any_chunking(frame: Frame, cuts: list[int]) -> None:
    wire = encode(frame)
    assert wire.count(b"~") == 1
    assert wire.count(b"\n") == 1
    assert feed_all(Decoder(max_line=8192), split(wire, cuts)) == [frame]
    assert parse_line(wire[:-1]) == [frame]
    assert parse_line(wire[:-1] + b"\r") == [frame]


@settings(max_examples=100, deadline=None)  # the single-frame round trip covers more
@given(frames=st.lists(FRAMES, min_size=1, max_size=4), cuts=CUTS)
def test_a_stream_of_frames_decodes_in_order(frames: list[Frame], cuts: list[int]) -> None:
    wire = b"".join(encode(f) for f in frames)
    assert feed_all(Decoder(max_line=8192), split(wire, cuts)) == frames


@settings(max_examples=400, deadline=None)
@given(frame=FRAMES, data=st.data())
def test_a_flipped_bit_never_yields_a_different_frame(frame: Frame, data: st.DataObject) -> None:
    wire = bytearray(encode(frame))
    bit = data.draw(st.integers(0, len(wire) * 8 - 1), label="bit")
    wire[bit // 8] ^= 1 << (bit % 8)
    events = Decoder(max_line=8192).feed(bytes(wire) + b"\n")  # the extra LF flushes a hit LF
    frames = [e for e in events if isinstance(e, Frame)]
    assert all(isinstance(e, Frame | ConsoleLine | Rejected) for e in events)
    if frames:
        # Only a letter of the CRC changing case, or a damaged LF after a complete frame (the
        # frame ends at its CRC), leaves a valid frame, and it is the same frame.
        assert frames == [frame]
        if bit // 8 < len(wire) - 1:
            assert len(wire) - 9 <= bit // 8
            assert bit % 8 == 5
            assert chr(wire[bit // 8]).lower() in "abcdef"


@FAST
@given(
    text=st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), max_size=8),
            st.sampled_from([" ", "~", "P", "*", "~1 "]),
        ),
        max_size=8,
    ).map("".join),
    frame=FRAMES,
)
def test_console_text_before_a_marker_comes_out_as_console_line(text: str, frame: Frame) -> None:
    assume("~P" not in text + "P")  # with "~P" it is a damaged frame (SPEC.md 2.3), tested below
    events = Decoder(max_line=8192).feed(text.encode() + encode(frame))
    head = [ConsoleLine(text)] if text.strip() else []
    assert events == [*head, frame]


@FAST
@given(frame=FRAMES, cut=st.integers(2, 40))
def test_a_frame_cut_short_by_the_next_marker_is_rejected_and_the_next_frame_kept(
    frame: Frame, cut: int
) -> None:
    wire = encode(frame)
    events = Decoder(max_line=8192).feed(wire[: min(cut, len(wire) - 10)] + wire)
    assert events == [Rejected("frame cut short", wire[: min(cut, len(wire) - 10)]), frame]


def test_a_frame_ends_at_its_crc_so_a_lost_lf_loses_nothing() -> None:
    a = encode(Frame(seq=1, name="OK", fields={"x": "1"}))
    b = encode(Frame(seq=2, name="OK"))
    decoder = Decoder()
    assert decoder.feed(a[:-1]) == [parse_line(a[:-1])[0]]  # complete before any LF arrives
    assert decoder.feed(b) == [parse_line(b[:-1])[0]]


# ---- SPEC.md cannot drift from the code -------------------------------------------------------

_EXAMPLE = re.compile(r"^(S>B|B>S)(!?)\s+(.*)$")


def spec_examples() -> list[tuple[str, bool, bytes]]:
    """(direction, damaged, payload) of every example line in SPEC.md's code blocks."""
    return [(d, damaged, payload) for d, damaged, payload, _ in spec_examples_with_mtu()]


def spec_examples_with_mtu() -> list[tuple[str, bool, bytes, int]]:
    """Every example line with the mtu of the board it is shown with: 256 when the text just
    before its code block, or a comment above it in the block, names ``mtu=256`` (1.3's
    examples: inline data and text chunks fill such a line), else the smallest mtu."""
    out: list[tuple[str, bool, bytes, int]] = []
    in_block = False
    context = ""
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
            if not in_block:
                context = ""
            continue
        if not in_block or line.startswith("#"):
            context += line
            continue
        m = _EXAMPLE.match(line.strip())
        if m:
            mtu = 256 if "mtu=256" in context else MIN_MTU
            out.append((m.group(1), m.group(2) == "!", m.group(3).encode("utf-8"), mtu))
    return out


def test_spec_states_the_crc_check_value() -> None:
    text = SPEC.read_text(encoding="utf-8")
    quoted = re.findall(r'"123456789"\S*\s+(?:is|gives)\s+`([0-9a-fA-F]{8})`', text)
    assert len(quoted) >= 2
    assert {int(v, 16) for v in quoted} == {crc32(b"123456789")}
    for body, value in re.findall(r'crc32\("([^"]+)"\) = 0x([0-9a-f]{8})', text):
        assert crc32(body.encode()) == int(value, 16)


def test_spec_examples_decode_with_valid_crcs() -> None:
    frames = wide = 0
    for direction, damaged, payload, mtu in spec_examples_with_mtu():
        events = parse_line(payload)
        if damaged:
            assert not any(isinstance(e, Frame) for e in events), payload
            continue
        if b"~P" not in payload:
            assert all(isinstance(e, ConsoleLine) for e in events), payload
            continue
        frame = events[-1]
        assert isinstance(frame, Frame), (direction, payload, frame)
        assert all(isinstance(e, ConsoleLine | Rejected) for e in events[:-1]), payload
        wire = encode(frame)
        assert wire == payload[payload.rfind(b"~P") :] + b"\n", "not in canonical form"
        assert len(wire) <= mtu, "every example fits the mtu of the board it is shown with"
        frames += 1
        wide += len(wire) > MIN_MTU
    assert frames >= 60  # the spec's examples were found at all
    assert wide >= 10  # 1.3's inline data and text chunks, at mtu 256


def test_spec_marks_a_damaged_frame_in_its_session() -> None:
    assert any(damaged for _, damaged, _ in spec_examples())


def test_a_start_marker_split_across_pieces_still_cuts_the_frame_before_it_short() -> None:
    """A paced line's pieces carry a frame's middle; the decoder takes them without finishing
    anything, but not a piece that completes a start marker begun at the end of the last one."""
    first = encode(Frame(seq=7, name="OK", fields={"data": "QUJD"}))
    second = encode(Frame(seq=8, name="OK", fields={"next": "3"}))
    decoder = Decoder(max_line=256)
    assert decoder.feed(first[:6]) == []
    assert decoder.feed(first[6:12]) == []  # the middle of the frame: nothing ends
    assert decoder.pending == 12
    assert decoder.feed(b"~") == []  # the line breaks off; "~" may begin a marker
    events = decoder.feed(second[1:])  # "P1 8 OK ...": the marker is whole
    assert isinstance(events[0], Rejected)
    assert events[0].reason == "frame cut short"
    assert events[1:] == [Frame(seq=8, name="OK", fields={"next": "3"})]
