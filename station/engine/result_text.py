"""A cycle's result in one line of words: the same text on the command line, in the station log
and in the operator's log pane. Pure: a result in, text out."""

from __future__ import annotations

from station.engine.events import CycleResult, Outcome


def result_line(result: CycleResult, *, where: str = "") -> str:
    """``PASS``, ``ALREADY PROVISIONED`` or ``FAIL``, then ``where`` the board was (e.g.
    ``slot 1 /dev/ttyUSB0``; empty where the reader already knows), the board's id, and what
    happened: the certificate's serial and the cycle's time, or the failure's code and reason."""
    head = f"{where} " if where else ""
    board = result.board_uid or "?"
    if result.outcome is Outcome.ALREADY_PROVISIONED:
        return f"ALREADY PROVISIONED {head}{board}: {result.note}; it is good, nothing was changed"
    if result.failure is None:
        note = f" ({result.note})" if result.note else ""
        return f"PASS {head}{board} serial {result.serial} in {result.elapsed:.1f} s{note}"
    failure = result.failure
    return f"FAIL {head}{board} {failure.code}: {failure.message}"
