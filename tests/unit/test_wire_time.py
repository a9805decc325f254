"""A paced virtual board's wire keeps the UART's time however late its serving thread wakes:
a late wake-up hands over every byte that has arrived by then, never more, and the send ends
when the wire says, not one lateness per piece later."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fixtures.board.wire_time import due, next_cut, wire_seconds

BAUD = 115200
PIECE = 32


def test_on_time_each_wake_up_hands_over_one_piece() -> None:
    start, sent = 10.0, 0
    cuts = []
    while sent < 100:
        woke = start + wire_seconds(min(100, sent + PIECE), BAUD)  # exactly when due
        sent = next_cut(sent, PIECE, 100, start, woke, BAUD)
        cuts.append(sent)
    assert cuts == [32, 64, 96, 100]


def test_a_late_wake_up_hands_over_everything_that_has_arrived() -> None:
    start = 10.0
    late = start + wire_seconds(200, BAUD)  # woke when 200 bytes were out, not 32
    assert next_cut(0, PIECE, 1000, start, late, BAUD) == 200
    assert next_cut(0, PIECE, 150, start, late, BAUD) == 150  # never past the send
    assert due(start, start - 1.0, BAUD) == 0


@given(
    total=st.integers(1, 4000),
    lateness=st.lists(st.floats(0, 0.05), min_size=1, max_size=200),
)
def test_the_wire_never_runs_ahead_of_the_uart_nor_falls_behind_by_more_than_one_wake_up(
    total: int, lateness: list[float]
) -> None:
    start, sent, k = 5.0, 0, 0
    woke = start
    while sent < total:
        scheduled = start + wire_seconds(min(total, sent + PIECE), BAUD)
        woke = max(woke, scheduled) + lateness[k % len(lateness)]
        k += 1
        cut = next_cut(sent, PIECE, total, start, woke, BAUD)
        assert sent < cut <= total
        assert cut <= due(start, woke, BAUD) + 1  # only bytes that have arrived (+ rounding)
        sent = cut
    ideal_end = start + wire_seconds(total, BAUD)
    assert woke <= ideal_end + max(lateness) + wire_seconds(PIECE, BAUD)
