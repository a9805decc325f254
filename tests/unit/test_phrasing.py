"""How values read in messages: lists in words, outside text quoted with escapes."""

from __future__ import annotations

import pytest

from station.phrasing import all_of, one_of, quoted


@pytest.mark.parametrize(
    ("items", "text"),
    [
        ((2048, 3072, 4096), "2048, 3072 or 4096"),
        (("P-256", "P-384"), "P-256 or P-384"),
        ((3072,), "3072"),
        ((), "none"),
    ],
    ids=["ok/three", "ok/two", "ok/one", "ok/none"],
)
def test_one_of(items: tuple[object, ...], text: str) -> None:
    assert one_of(items) == text


def test_all_of() -> None:
    assert all_of(["HELLO", "KEYGEN", "LOCK"]) == "HELLO, KEYGEN and LOCK"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("board-0001", '"board-0001"'),
        ("", '""'),
        ("it's", '"it\'s"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("\x1b[2J", '"\\x1b[2J"'),
        ("a\u202eb", '"a\\u202eb"'),
        ("ü", '"ü"'),
        ("x" * 81, '"' + "x" * 80 + '..."'),
    ],
    ids=[
        "ok/plain",
        "ok/empty",
        "ok/apostrophe",
        "ok/quote-and-backslash",
        "ok/escape-sequence",
        "ok/bidi-override",
        "ok/printable-unicode",
        "ok/cut-off",
    ],
)
def test_quoted(value: str, text: str) -> None:
    assert quoted(value) == text
