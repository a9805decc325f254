"""The binary search that finds where a station's history left the store's. Pure."""

from __future__ import annotations

import pytest

from station.factory.sync import first_difference


@pytest.mark.parametrize(
    ("differs_from", "upto", "expected"),
    [(None, 10, None), (1, 10, 1), (7, 10, 7), (10, 10, 10), (4, 0, None)],
)
def test_first_difference(differs_from: int | None, upto: int, expected: int | None) -> None:
    def local(seq: int) -> str:
        return f"b{seq}" if differs_from is not None and seq >= differs_from else f"a{seq}"

    assert first_difference(upto, local, lambda seq: f"a{seq}") == expected
