"""How the station's log lines look, and ``station -v``: module loggers to stderr.

Every module logs through ``logging.getLogger(__name__)``; nothing is configured until the
command line asks (``-v``), so a library user's own logging setup is left alone. Timestamps
carry their UTC offset, so lines from line PCs in different zones (or across a DST change)
still order and compare.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime

#: The loggers ``-v`` turns up: the station and the wire (the Link's frames in and out).
VERBOSE_LOGGERS = ("station", "device_protocol")


class IsoFormatter(logging.Formatter):
    """``asctime`` as ISO 8601 local time with milliseconds and UTC offset, e.g.
    ``2025-03-01T06:00:00.123+01:00``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        at = datetime.fromtimestamp(record.created).astimezone()
        return at.isoformat(timespec="milliseconds")


class _VerboseHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The ``-v`` handler (one per process: a new one replaces the old)."""


def log_verbose_to_stderr() -> None:
    """``station -v``: every station and wire log line at DEBUG and above goes to stderr."""
    handler = _VerboseHandler(sys.stderr)
    handler.setFormatter(IsoFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in VERBOSE_LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _VerboseHandler)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
