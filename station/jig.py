"""The jig: which serial port each slot of the fixture is, from ``[jig]`` in station.toml.

A slot names its port by URL (``/dev/ttyUSB0``, ``COM3``, ``socket://host:port``) or by the USB
identity of its adapter (``vid:pid`` plus the adapter's serial number and/or its physical
location on the hub), so a re-plugged adapter keeps its slot whatever name the OS gives it.
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from device_protocol.rate_switch import STANDARD_RATES
from station.config_reader import TableReader
from station.errors import ConfigError
from station.home import StationHome
from station.phrasing import one_of, quoted
from station.ports import PortInfo, list_ports

START_MODES = ("auto", "key")
DEFAULT_MAX_BAUD = 115200
_SLOT_NAME = r"[A-Za-z0-9_-]{1,12}"
_USB_ID = r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}"


@dataclass(frozen=True)
class SlotSpec:
    """One slot of the jig and how to find its port."""

    name: str
    url: str | None = None
    usb: str | None = None  # "0403:6001", lower case
    serial_number: str | None = None
    location: str | None = None

    def matches(self, port: PortInfo) -> bool:
        """True when ``port`` is this slot's USB adapter."""
        if self.usb is None or port.usb_id != self.usb:
            return False
        if self.serial_number is not None and port.serial_number != self.serial_number:
            return False
        return self.location is None or port.location == self.location

    def describe(self) -> str:
        if self.url is not None:
            return self.url
        parts = [f"usb {self.usb}"]
        if self.serial_number:
            parts.append(f"sn {self.serial_number}")
        if self.location:
            parts.append(f"at {self.location}")
        return " ".join(parts)


@dataclass(frozen=True)
class JigSection:
    """``[jig]``: the slots, and how cycles start on them."""

    slots: tuple[SlotSpec, ...] = ()
    start: str = "auto"  # "auto": when a board answers; "key": when the operator presses S
    label_scan: bool = False  # ask for the board's label before each cycle, cross-check its id
    poll_ms: int = 500  # how often an empty slot is looked at
    max_baud: int = 115200  # the fastest rate the cables carry (SPEC.md 7.10); 115200: no switch


def _slot(name: str, t: TableReader) -> SlotSpec:
    url = t.raw("url", None)
    usb = t.raw("usb", None)
    serial_number = t.raw("serial_number", None)
    location = t.raw("location", None)
    for key, value in (("url", url), ("usb", usb), ("serial_number", serial_number)):
        if value is not None and (not isinstance(value, str) or not value):
            t.problem(key, "must be a non-empty string")
    if location is not None and (not isinstance(location, str) or not location):
        t.problem("location", "must be a non-empty string")
    if (url is None) == (usb is None):
        t.problem("url", "give exactly one of url or usb (vid:pid)")
    elif usb is not None:
        if isinstance(usb, str) and not re.fullmatch(_USB_ID, usb):
            t.problem("usb", f"{quoted(usb)} is not vid:pid in hex, e.g. 0403:6001")
        if serial_number is None and location is None:
            t.problem("usb", "add serial_number or location so the adapter is found unambiguously")
    elif serial_number is not None or location is not None:
        t.problem("url", "serial_number and location go with usb, not with url")
    return SlotSpec(
        name=name,
        url=url if isinstance(url, str) else None,
        usb=usb.lower() if isinstance(usb, str) else None,
        serial_number=serial_number if isinstance(serial_number, str) else None,
        location=location if isinstance(location, str) else None,
    )


def read_jig(t: TableReader, home: StationHome | None = None) -> JigSection:
    """The ``[jig]`` table (a reader for :data:`station.config.SECTIONS`)."""
    start = t.text("start", "auto")
    if start not in START_MODES:
        t.problem("start", f"{quoted(start)}: use {one_of(START_MODES)}")
    label_scan = t.boolean("label_scan", False)
    poll_ms = t.integer("poll_ms", 500, low=50, high=10_000)
    max_baud = _max_baud(t)
    raw_slots = t.raw("slots", {})
    slots: list[SlotSpec] = []
    if not isinstance(raw_slots, dict):
        t.problem("slots", "must be a table of slots, e.g. [jig.slots.1]")
        raw_slots = {}
    for name, raw in raw_slots.items():
        where = f"{t.name}.slots.{name}"
        if not re.fullmatch(_SLOT_NAME, name):
            t.problems.append(f"{where}: slot names are 1-12 letters, digits, '_' or '-'")
        if not isinstance(raw, dict):
            t.problems.append(f"{where}: must be a table")
            continue
        reader = TableReader(where, raw, t.problems)
        slots.append(_slot(name, reader))
        reader.reject_unknown()
    seen: dict[tuple[Any, ...], str] = {}
    for slot in slots:
        key = (slot.url, slot.usb, slot.serial_number, slot.location)
        if key in seen:
            t.problem(f"slots.{slot.name}", f"names the same port as slot {seen[key]}")
        seen.setdefault(key, slot.name)
    start = start if start in START_MODES else "auto"
    return JigSection(tuple(slots), start, label_scan, poll_ms, max_baud)


def _max_baud(t: TableReader) -> int:
    """``max_baud``: a standard rate from 115200 up (115200: boards stay at the default)."""
    value = t.raw("max_baud", DEFAULT_MAX_BAUD)
    if isinstance(value, bool) or not isinstance(value, int) or value not in STANDARD_RATES:
        shown = ", ".join(str(r) for r in STANDARD_RATES)
        t.problem(
            "max_baud",
            f"{value!r} is not a standard baud rate from 115200 up: set the fastest rate every "
            f"slot's cable and adapter carry, one of {shown} (115200: no switching)",
        )
        return DEFAULT_MAX_BAUD
    return value


def load_jig_file(path: Path) -> JigSection:
    """A jig file (such as ``fixtures/jigs/*.toml``): a ``[jig]`` table and nothing else."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read jig file {path}: {e}") from e
    problems = [f"{name}: unknown table or key" for name in sorted(set(data) - {"jig"})]
    raw = data.get("jig")
    if not isinstance(raw, dict):
        problems.append("jig: required table is missing")
        raw = {}
    reader = TableReader("jig", raw, problems)
    jig = read_jig(reader)
    reader.reject_unknown()
    if not jig.slots:
        problems.append("jig.slots: no slots defined")
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise ConfigError(f"{path} has {len(problems)} problem(s):\n{listed}")
    return jig


class PortSource(Protocol):
    """Where a slot's board is right now: a port URL, or None while there is no port."""

    def port(self, slot: str) -> str | None: ...


def url_present(url: str, devices: set[str]) -> bool:
    """A local device path is present when it exists (or pyserial lists it, e.g. COM3);
    network URLs (``socket://``, ``rfc2217://``, ``loop://``) are always worth a HELLO."""
    if "://" in url:
        return True
    return url in devices or Path(url).exists()


class JigPorts:
    """A :class:`PortSource` over a jig definition and pyserial's port list.

    The port list is read at most once per ``max_age`` seconds, whichever slot asks;
    safe to call from many worker threads.
    """

    def __init__(
        self,
        jig: JigSection,
        lister: Callable[[], list[PortInfo]] = list_ports,
        max_age: float = 0.4,
    ) -> None:
        self._slots = {slot.name: slot for slot in jig.slots}
        self._lister = lister
        self._max_age = max_age
        self._lock = threading.Lock()
        self._ports: list[PortInfo] = []
        self._read_at = float("-inf")

    def _current(self) -> list[PortInfo]:
        with self._lock:
            now = time.monotonic()
            if now - self._read_at > self._max_age:
                self._ports = self._lister()
                self._read_at = now
            return self._ports

    def port(self, slot: str) -> str | None:
        spec = self._slots[slot]
        ports = self._current()
        if spec.url is not None:
            return spec.url if url_present(spec.url, {p.device for p in ports}) else None
        found = [p.device for p in ports if spec.matches(p)]
        return found[0] if len(found) == 1 else None  # two matches: refuse to guess
