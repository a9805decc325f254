"""The station's base exceptions. Each package subclasses them with small, specific errors."""


class StationError(Exception):
    """A failure the station can explain to its user: what failed, where, and what to do next.

    The CLI prints it as one line and exits with :attr:`exit_code` (1: a board or check failed).
    """

    exit_code = 1


class ConfigError(StationError):
    """Usage or configuration is wrong (exit code 2): a bad station.toml, a missing home."""

    exit_code = 2
