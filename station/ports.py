"""Serial port discovery through pyserial (COM ports on Windows, /dev/tty* elsewhere)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from serial.tools import list_ports as _list_ports


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    location: str | None
    manufacturer: str | None

    @property
    def usb_id(self) -> str | None:
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"usb_id": self.usb_id}

    def describe(self) -> str:
        parts = [self.device]
        if self.usb_id:
            parts.append(f"usb {self.usb_id}")
        if self.serial_number:
            parts.append(f"serial {self.serial_number}")
        if self.location:
            parts.append(f"location {self.location}")
        if self.description and self.description != "n/a":
            parts.append(self.description)
        return "  ".join(parts)


def list_ports() -> list[PortInfo]:
    """Every serial port pyserial sees, sorted by device name."""
    return sorted(
        (
            PortInfo(
                device=p.device,
                description=p.description,
                vid=p.vid,
                pid=p.pid,
                serial_number=p.serial_number,
                location=p.location,
                manufacturer=p.manufacturer,
            )
            for p in _list_ports.comports()
        ),
        key=lambda p: p.device,
    )
