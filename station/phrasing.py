"""How values read in messages to people: lists in words, outside text quoted safely. Pure.

A message never shows a Python repr: allowed sizes ``(2048, 3072, 4096)`` read "2048, 3072 or
4096", and a value that came from a board, a file or a command line reads in double quotes,
with every character that is not printable written as an escape (so a hostile value can
neither drive the operator's terminal nor hide what it is).
"""

from __future__ import annotations

from collections.abc import Iterable

#: How many characters of an outside value a message shows at most.
QUOTE_LIMIT = 80


def one_of(items: Iterable[object]) -> str:
    """``2048, 3072 or 4096``: the choices, in words."""
    return _series([str(item) for item in items], "or")


def all_of(items: Iterable[object]) -> str:
    """``a, b and c``: every item, in words."""
    return _series([str(item) for item in items], "and")


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``"value"``: text from outside, in double quotes, non-printable characters escaped and
    anything past ``limit`` characters cut off with ``...``."""
    text = str(value)
    shown = "".join(_escape(ch) for ch in text[:limit])
    return f'"{shown}{"..." if len(text) > limit else ""}"'


def _series(words: list[str], conjunction: str) -> str:
    if not words:
        return "none"
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _escape(ch: str) -> str:
    if ch in '"\\':
        return "\\" + ch
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
