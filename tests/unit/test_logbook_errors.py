"""The station log also takes the station's own error reports, tracebacks included, while asked."""

from __future__ import annotations

import logging
from pathlib import Path

from station.logbook import Logbook


def test_errors_of_writes_station_errors_with_their_traceback_only_while_inside(
    tmp_path: Path,
) -> None:
    logbook = Logbook(tmp_path / "station.log", "st-1")
    log = logging.getLogger("station.line.somewhere")
    log.error("st-1 slot 1 before")
    with logbook.errors_of("station"):
        log.warning("st-1 slot 1 only a warning")
        try:
            raise OSError(5, "Input/output error")
        except OSError as e:
            log.error("st-1 slot 1 inside", exc_info=e)
        logging.getLogger("elsewhere").error("not the station's")
    log.error("st-1 slot 1 after")
    logbook.close()
    text = (tmp_path / "station.log").read_text()
    assert "st-1 slot 1 inside\nTraceback (most recent call last):" in text
    assert "OSError: [Errno 5] Input/output error" in text
    for absent in ("before", "only a warning", "not the station's", "after"):
        assert absent not in text
