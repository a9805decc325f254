"""The station's base exceptions and exit codes. Each package subclasses the exceptions with
small, specific errors."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What every `station` command exits with (DESIGN section 6)."""

    OK = 0
    #: A board or a check failed (an explained error: one line on stderr).
    FAILED = 1
    #: Usage or configuration is wrong.
    USAGE = 2
    #: Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    INTERRUPTED = 130

    @classmethod
    def of(cls, passed: bool) -> ExitCode:
        """OK if ``passed``, else FAILED."""
        return cls.OK if passed else cls.FAILED


class StationError(Exception):
    """A failure the station can explain to its user: what failed, where, and what to do next.

    The CLI prints it as one line and exits with :attr:`exit_code` (a board or check failed).
    """

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(StationError):
    """Usage or configuration is wrong: a bad station.toml, a missing home."""

    exit_code = ExitCode.USAGE
