"""Reading one TOML table with type checks, collecting problems instead of stopping at the first."""

from __future__ import annotations

import re
from typing import Any

from station.phrasing import quoted

_MISSING = object()


class TableReader:
    """Typed access to one table; every bad value becomes ``"table.key: problem"``.

    Readers return a usable default after recording a problem, so the caller can go on
    and report everything in one go.
    """

    def __init__(self, name: str, data: dict[str, Any], problems: list[str]) -> None:
        self.name = name
        self.data = data
        self.problems = problems
        self.seen: set[str] = set()

    def problem(self, key: str, message: str) -> None:
        """Record a problem with ``key``."""
        self.problems.append(f"{self.name}.{key}: {message}")

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value as parsed, or ``default``; a missing required key is a problem."""
        self.seen.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.problem(key, "required key is missing")
            return None
        return default

    def text(self, key: str, default: Any = _MISSING, pattern: str | None = None) -> str:
        """A non-empty string (unless the default is empty), optionally matching ``pattern``."""
        value = self.raw(key, default)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(key, f"must be a string, not {type(value).__name__}")
            return ""
        if pattern is not None and not re.fullmatch(pattern, value):
            self.problem(key, f"{quoted(value)} does not match {pattern}")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        """An integer within ``low..high``."""
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be an integer, not {type(value).__name__}")
            return default
        if not low <= value <= high:
            self.problem(key, f"{value} is out of range {low}..{high}")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.raw(key, default)
        if not isinstance(value, bool):
            self.problem(key, "must be true or false")
            return default
        return value

    def text_list(self, key: str, default: list[str]) -> list[str]:
        """A list of strings."""
        value = self.raw(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "must be a list of strings")
            return default
        return value

    def int_list(self, key: str, default: list[int]) -> list[int]:
        """A list of integers."""
        value = self.raw(key, default)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            self.problem(key, "must be a list of integers")
            return default
        return value

    def reject_unknown(self) -> None:
        """Record every key in the table that no reader asked for."""
        for key in sorted(set(self.data) - self.seen):
            self.problem(key, "unknown key")
