"""Open a POSIX serial device (a tty or pty path) the way pyserial's ``Serial.open`` does, in
fewer steps: the exclusive lock, raw 8N1 at a standard rate without flow control, DTR and RTS
raised, the input flushed. What pyserial adds is left out: the pipes it makes for cancelling
its own reads (the station never reads through pyserial on POSIX), a second read of the
attributes, and a second flush. Errors carry pyserial's own words, so an operator reads the
same message either way.

POSIX only; :func:`device_protocol.serial_port.open_serial` decides when it applies.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import termios
from typing import Any

import serial
from serial.serialposix import CMSPAR

#: Local flags pyserial clears (ECHOCTL and ECHOKE where the system has them).
_LFLAG_OFF = (
    termios.ICANON
    | termios.ECHO
    | termios.ECHOE
    | termios.ECHOK
    | termios.ECHONL
    | termios.ISIG
    | termios.IEXTEN
    | getattr(termios, "ECHOCTL", 0)
    | getattr(termios, "ECHOKE", 0)
)
_OFLAG_OFF = termios.OPOST | termios.ONLCR | termios.OCRNL
_IFLAG_OFF = (
    termios.INLCR
    | termios.IGNCR
    | termios.ICRNL
    | termios.IGNBRK
    | getattr(termios, "IUCLC", 0)
    | getattr(termios, "PARMRK", 0)
    | termios.INPCK
    | termios.ISTRIP
    | termios.IXON
    | termios.IXOFF
    | getattr(termios, "IXANY", 0)
)
_CFLAG_OFF = (
    termios.CSIZE
    | termios.CSTOPB
    | termios.PARENB
    | termios.PARODD
    | CMSPAR
    | getattr(termios, "CRTSCTS", 0)
)
_CFLAG_ON = termios.CLOCAL | termios.CREAD | termios.CS8
_TIOCM = {name: struct.pack("I", getattr(termios, name)) for name in ("TIOCM_DTR", "TIOCM_RTS")}


def tty_speed(baudrate: int) -> int | None:
    """The termios constant for ``baudrate``; None for a rate without one (pyserial then sets
    it its own way)."""
    speed = getattr(termios, f"B{baudrate}", None)
    return speed if isinstance(speed, int) else None


def raw_attributes(attrs: list[Any], speed: int) -> list[Any]:
    """``attrs`` (from ``tcgetattr``) made raw 8N1 at ``speed``, no flow control, reads that
    return at once: what pyserial's ``_reconfigure_port`` sets for those settings. Pure."""
    iflag, oflag, cflag, lflag, _ispeed, _ospeed, cc = attrs
    cc = list(cc)
    cc[termios.VMIN] = cc[termios.VTIME] = 0
    return [
        iflag & ~_IFLAG_OFF,
        oflag & ~_OFLAG_OFF,
        (cflag & ~_CFLAG_OFF) | _CFLAG_ON,
        lflag & ~_LFLAG_OFF,
        speed,
        speed,
        cc,
    ]


def open_tty(path: str, speed: int) -> int:
    """The device ``path`` opened exclusively, non-blocking, raw 8N1 at ``speed`` (a termios
    constant), DTR and RTS raised, its input flushed: the descriptor. Raises pyserial's
    SerialException (with pyserial's words) or termios.error; nothing is left open then."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as e:
        raise serial.SerialException(e.errno, f"could not open port {path}: {e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            raise serial.SerialException(
                e.errno, f"Could not exclusively lock port {path}: {e}"
            ) from e
        try:
            attrs = termios.tcgetattr(fd)
        except termios.error as e:  # a device file that is no tty
            raise serial.SerialException(f"Could not configure port: {e}") from e
        termios.tcsetattr(fd, termios.TCSANOW, raw_attributes(attrs, speed))
        _raise_modem_lines(fd)
        termios.tcflush(fd, termios.TCIFLUSH)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return fd


def _raise_modem_lines(fd: int) -> None:
    """DTR, then RTS, as pyserial does; a device without modem lines (a pty) is no error."""
    try:
        for line in ("TIOCM_DTR", "TIOCM_RTS"):
            fcntl.ioctl(fd, termios.TIOCMBIS, _TIOCM[line])
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTTY):
            raise
