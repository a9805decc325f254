"""Exceptions of the wire contract.

Transport faults raise (:class:`Disconnected`, :class:`Timeout`); what the board reports comes back
as :class:`DeviceError` carrying its status code; a board that breaks the contract gives
:class:`ProtocolError`. Every message names the port, so an operator knows which board to look at.
"""

from __future__ import annotations


class LinkError(Exception):
    """Base of everything the device_protocol package raises."""

    def __init__(self, port: str, message: str) -> None:
        super().__init__(f"{port}: {message}")
        self.port = port
        self.detail = message


class Disconnected(LinkError):
    """The port vanished, could not be opened, or the board closed the line.

    ``request`` names the request the board was answering when it left, if any; ``reason`` is
    what the port said (EIO, "returned no data", ...).
    """

    def __init__(
        self, port: str, message: str, *, request: str | None = None, reason: str = ""
    ) -> None:
        super().__init__(port, message)
        self.request = request
        self.reason = reason or message


class Timeout(LinkError):
    """No valid answer within the request timeout after every retry."""

    def __init__(self, port: str, message: str, *, request: str) -> None:
        super().__init__(port, message)
        self.request = request


class ProtocolError(LinkError):
    """The board answered, but not as SPEC.md says (wrong fields, bad digest, wrong offsets)."""


class DeviceError(LinkError):
    """The board answered ERR: a status code from the SPEC.md table and its text."""

    def __init__(self, port: str, *, request: str, status: int, name: str, text: str) -> None:
        super().__init__(port, f"{request} refused by the board: {name} ({status}) {text}".rstrip())
        self.request = request
        self.status = status
        self.status_name = name
        self.text = text
