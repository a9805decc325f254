"""The wire contract between a provisioning station and a board (see SPEC.md).

Usable on its own by anyone writing board firmware or another station: it imports nothing from
``station``.
"""

from device_protocol.errors import DeviceError, Disconnected, LinkError, ProtocolError, Timeout
from device_protocol.framing import VERSION, Decoder, Frame, encode
from device_protocol.link import Link

__all__ = [
    "VERSION",
    "Decoder",
    "DeviceError",
    "Disconnected",
    "Frame",
    "Link",
    "LinkError",
    "ProtocolError",
    "Timeout",
    "encode",
]
