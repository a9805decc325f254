"""The factory package's exceptions: one base, small specific ones."""

from __future__ import annotations

from station.errors import StationError


class FactoryError(StationError):
    """Something about the factory store failed; the message says what and what to do."""


class StoreUnreachable(FactoryError):
    """The store did not answer (down, network, authentication): the line goes on; the next
    sync catches up."""
