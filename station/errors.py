"""The station's base exception. Each package subclasses it with small, specific errors."""


class StationError(Exception):
    """A failure the station can explain to its user: what failed, where, and what to do next."""
