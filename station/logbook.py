"""The station's rotating plain-text log: engine events and board console lines, per slot.

For post-mortems on the line. It is fed engine events, and (while :meth:`Logbook.errors_of` is
in force) the errors the station's own modules log with their tracebacks, so it holds nothing
the engine does not emit or a station module does not report: no keys, no passphrases (a test
greps the file).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

from station.engine.events import (
    BoardIdentified,
    ConsoleText,
    CycleResult,
    EngineEvent,
    StepStarted,
)
from station.engine.result_text import result_line
from station.log_setup import IsoFormatter

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 10


class _Handler(RotatingFileHandler):
    """Keeps the first write error instead of printing a traceback for every line."""

    error: OSError | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
        elif self.error is None:
            self.error = error


class _Errors(logging.Handler):
    """Hands the ERROR records of a logger tree to the logbook's file handler."""

    def __init__(self, target: logging.Handler, lock: threading.Lock) -> None:
        super().__init__(logging.ERROR)
        self._target = target
        self._lock = lock

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self._target.handle(record)


class Logbook:
    """An engine listener writing one line per event to ``path`` (rotated at 5 MB, 10 kept).

    The log is for post-mortems; a line it cannot write (a full disk) never stops a cycle or
    hides a result: the first such error is kept in :attr:`error` for the caller to report.
    """

    def __init__(self, path: Path, station_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = _Handler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        self._handler.setFormatter(IsoFormatter("%(asctime)s %(message)s"))
        self._logger = logging.getLogger(f"station.logbook.{id(self)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self._handler)
        self._lock = threading.Lock()
        self.station_id = station_id

    def write(self, slot: str, text: str) -> None:
        with self._lock:
            self._logger.info("%s slot %s %s", self.station_id, slot, text)

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, StepStarted):
            self.write(event.slot, f"step {event.step.value} at {event.elapsed:.2f}s")
        elif isinstance(event, BoardIdentified):
            self.write(
                event.slot, f"board {event.uid} ({event.model} fw {event.firmware}, {event.state})"
            )
        elif isinstance(event, ConsoleText):
            self.write(event.slot, f"console | {event.text}")
        elif isinstance(event, CycleResult):
            self.write(event.slot, result_line(event, where=event.port))

    @contextmanager
    def errors_of(self, name: str = "station") -> Iterator[None]:
        """While inside, what the ``name`` loggers log at ERROR and above is written here too,
        traceback included (a slot's watcher that failed on the line, for the post-mortem)."""
        errors = _Errors(self._handler, self._lock)
        logger = logging.getLogger(name)
        logger.addHandler(errors)
        try:
            yield
        finally:
            logger.removeHandler(errors)

    @property
    def error(self) -> OSError | None:
        """The first write to the log that failed, if any."""
        return self._handler.error

    def close(self) -> None:
        """Flush and close the file; a failure is kept in :attr:`error`, never raised."""
        self._logger.removeHandler(self._handler)
        try:
            self._handler.close()
        except OSError as e:
            if self._handler.error is None:
                self._handler.error = e
