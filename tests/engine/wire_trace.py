"""What the station wrote to a board, read from the -v wire trace (the ``trace`` fixture of
tests/engine/conftest.py turns it on)."""

from __future__ import annotations

import re

import pytest

_REQUEST = re.compile(r" > ~P1 \d+ ([^*]+)\*")


def requests_sent(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Each request the station wrote: its name and fields, as on the wire."""
    found = (_REQUEST.search(record.getMessage()) for record in caplog.records)
    return [match.group(1) for match in found if match]


def names_sent(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The names of the requests the station wrote."""
    return [request.split(" ")[0] for request in requests_sent(caplog)]
