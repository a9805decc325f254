"""%XX escapes in field values (SPEC.md 2.2): ``pct_decode`` undoes ``pct_encode`` for any text,
gives what the plain byte-by-byte decoder gave (reference_framing.py) for any bytes, and refuses
a broken escape."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_protocol.escapes import pct_decode, pct_encode
from tests.protocol import reference_framing as reference

MANY = settings(max_examples=1000, deadline=None)
#: Pieces that make escapes likely: good ones in both cases, cut or broken ones, UTF-8 split
#: across escapes, bytes that are not UTF-8, and plain text between them.
PIECES = st.sampled_from(
    [b"%", b"%4", b"%41", b"%4a", b"%4A", b"%e9", b"%C3", b"%A9", b"%25", b"%G1", b"%1g",
     b"%0A", b"%20", b"a", b"Z9", b"\xc3", b"\xa9", b"\xff", b"\x00", b" ", b"~", b"*"]
)  # fmt: skip
ESCAPED_BYTES = st.one_of(st.binary(max_size=64), st.lists(PIECES, max_size=24).map(b"".join))


def outcome(decode: object, raw: bytes) -> tuple[str, str]:
    """The decoded text, or the exception's type and words."""
    assert callable(decode)
    try:
        return "ok", decode(raw)
    except ValueError as e:
        return type(e).__name__, str(e)


@MANY
@given(st.text())
def test_decode_inverts_encode_for_any_text(text: str) -> None:
    assert pct_decode(pct_encode(text)) == text


@MANY
@given(ESCAPED_BYTES)
def test_decode_gives_what_the_byte_by_byte_decoder_gave_for_any_bytes(raw: bytes) -> None:
    assert outcome(pct_decode, raw) == outcome(reference.pct_decode, raw)


@MANY
@given(st.text(), st.sampled_from([b"%", b"%4", b"%G1", b"%1g", b"%%41", b"% 1"]), st.text())
def test_a_broken_escape_anywhere_raises(before: str, broken: bytes, after: str) -> None:
    # What follows is escaped from its first byte ("~" is %7E), so it never completes the pair.
    raw = pct_encode(before) + broken + pct_encode("~" + after)
    with pytest.raises(ValueError, match="broken %-escape"):
        pct_decode(raw)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param(b"plain", "plain", id="ok/no-escape"),
        pytest.param(b"a%20b%0A", "a b\n", id="ok/space-and-lf"),
        pytest.param(b"%c3%A9", "\u00e9", id="ok/either-case"),
        pytest.param(b"%2541", "%41", id="ok/escaped-percent"),
    ],
)
def test_decode_ok(raw: bytes, text: str) -> None:
    assert pct_decode(raw) == text


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"%C3", id="fail/cut-utf8"),
        pytest.param(b"%FF", id="fail/not-utf8"),
        pytest.param(b"\xc3\xa9", id="fail/non-ascii-without-escape"),
    ],
)
def test_decode_refuses_what_is_not_text(raw: bytes) -> None:
    with pytest.raises(UnicodeDecodeError):
        pct_decode(raw)
