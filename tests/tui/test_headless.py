"""The line's headless core: jig definitions, port resolution, slot cards' words, shift figures."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import pytest

from device_protocol import messages as m
from station.engine.events import CycleFailure, CycleResult, FailureKind, Step, StepProgress
from station.errors import ConfigError
from station.jig import JigPorts, JigSection, SlotSpec, load_jig_file
from station.line.shift import ShiftStats, ShiftSummary, format_median, format_yield
from station.line.slot import (
    BoardSeen,
    Phase,
    SlotStatus,
    SlotVacant,
    apply,
    arrived,
    started,
    vacated,
)
from station.line.watch import watch_slot
from station.line.wording import next_action, slots_phrase, state_line
from station.ports import PortInfo
from station.tui.bigtext import big
from tests.tui.conftest import FIXED_WALL

JIGS = sorted(Path(str(resources.files("fixtures") / "jigs")).glob("*.toml"))


@pytest.mark.parametrize("path", JIGS, ids=lambda p: p.name)
def test_ok_example_jig_files_load(path: Path) -> None:
    jig = load_jig_file(path)
    assert jig.slots
    assert len({s.name for s in jig.slots}) == len(jig.slots)


def test_example_jigs_exist() -> None:
    assert len(JIGS) >= 3


def test_fail_jig_problems_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "jig.toml"
    path.write_text(
        "[jig]\nstart = 'later'\nspeed = 3\n"
        "[jig.slots.1]\nurl = '/dev/ttyUSB0'\nusb = '0403:6001'\n"
        "[jig.slots.2]\nusb = '403:6001'\nserial_number = 'X'\n"
        "[jig.slots.3]\nusb = '0403:6001'\n"
        "[jig.slots.4]\nurl = '/dev/ttyUSB1'\n[jig.slots.5]\nurl = '/dev/ttyUSB1'\ncolour = 1\n"
        "[other]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_jig_file(path)
    text = str(info.value)
    for expected in (
        "other: unknown table",
        'jig.start: "later": use auto or key',
        "jig.speed: unknown key",
        "jig.slots.1.url: give exactly one of url or usb",
        'jig.slots.2.usb: "403:6001" is not vid:pid',
        "jig.slots.3.usb: add serial_number or location",
        "jig.slots.5.colour: unknown key",
        "jig.slots.5: names the same port as slot 4",
    ):
        assert expected in text


def _port(device: str, usb: tuple[int, int] | None, sn: str | None, loc: str | None) -> PortInfo:
    vid, pid = usb if usb else (None, None)
    return PortInfo(device, "usb serial", vid, pid, sn, loc, None)


def test_usb_slots_follow_their_adapter_whatever_the_os_calls_it() -> None:
    jig = JigSection(
        (
            SlotSpec("A", usb="0403:6001", serial_number="FT1"),
            SlotSpec("B", usb="0403:6011", location="1-1.2:1.1"),
            SlotSpec("C", url="socket://10.0.0.7:4001"),
            SlotSpec("D", url="/dev/does-not-exist"),
        )
    )
    seen = [
        _port("/dev/ttyUSB0", (0x0403, 0x6011), "Q1", "1-1.2:1.0"),
        _port("/dev/ttyUSB1", (0x0403, 0x6011), "Q1", "1-1.2:1.1"),
        _port("/dev/ttyUSB2", (0x0403, 0x6001), "FT1", "1-3"),
    ]
    ports = JigPorts(jig, lister=lambda: seen, max_age=0)
    assert ports.port("A") == "/dev/ttyUSB2"
    assert ports.port("B") == "/dev/ttyUSB1"
    assert ports.port("C") == "socket://10.0.0.7:4001"
    assert ports.port("D") is None
    seen[:] = [_port("/dev/ttyUSB7", (0x0403, 0x6001), "FT1", "2-1")]  # re-plugged elsewhere
    assert ports.port("A") == "/dev/ttyUSB7"
    assert ports.port("B") is None
    seen.append(_port("/dev/ttyUSB8", (0x0403, 0x6001), "FT1", "2-2"))  # a clone: refuse
    assert ports.port("A") is None


def test_a_watch_reports_a_new_board_and_ignores_the_one_that_just_finished() -> None:
    answers: list[m.HelloInfo | None] = []
    known = m.HelloInfo(1, "VB-1", "uid-1", "1.0", ("ec-p256",), m.BoardState.LOCKED, 256)
    answers += [known, known, None, None, known]
    vacant: list[SlotVacant] = []

    class Source:
        def port(self, slot: str) -> str | None:
            return "/dev/pts/9"

    seen = watch_slot(
        "1",
        Source(),
        lock=threading.Lock(),
        stop=threading.Event(),
        known_uid="uid-1",
        on_vacant=vacant.append,
        probe=lambda port: answers.pop(0),
        interval=0,
    )
    # uid-1 stays (ignored), leaves (one vacancy report), comes back: it counts as arriving.
    assert seen == BoardSeen("1", "/dev/pts/9", "uid-1", "locked", "VB-1", "1.0")
    assert vacant == [SlotVacant("1", "/dev/pts/9")]


def test_a_stopped_watch_returns_none() -> None:
    stop = threading.Event()
    stop.set()
    found = watch_slot("1", JigPorts(JigSection()), lock=threading.Lock(), stop=stop)
    assert found is None


FAIL = CycleFailure(FailureKind.POLICY, Step.POLICY, "policy.key.weak", "Board refused; set aside.")


def test_slot_status_follows_a_cycle_and_keeps_the_verdict_until_the_next_board() -> None:
    status = SlotStatus("3")
    status = arrived(status, BoardSeen("3", "/dev/pts/4", "VB1-1", "blank"))
    assert status.phase is Phase.READY
    assert next_action(status, start="key") == "Press S to start."
    assert next_action(status, label_scan=True).startswith("Scan the board's label")
    status = started(status, "/dev/pts/4", now=10.0)
    status = apply(status, StepProgress("3", Step.DELIVER, 512, 2048))
    assert state_line(status, now=12.5) == "Step 6/9 DELIVER 25%  2.5 s"
    result = CycleResult(
        slot="3", port="/dev/pts/4", board_uid="VB1-1", failure=FAIL, serial=None, elapsed=1.25
    )
    status = apply(status, result)
    assert status.phase is Phase.FAILED
    assert state_line(status, now=99) == "Failed at POLICY after 1.2 s"
    assert next_action(status) == "R: retry, or remove the board."
    status = vacated(status, SlotVacant("3", "/dev/pts/4"))
    assert status.phase is Phase.FAILED, "the verdict stays on the card"
    assert "no longer answers" in next_action(status)
    status = arrived(status, BoardSeen("3", "/dev/pts/5", "VB1-2", "blank"))
    assert status.failure is None
    assert status.board_uid == "VB1-2"


def test_reprovision_is_offered_only_for_an_already_provisioned_board() -> None:
    code = "identity.already-provisioned"
    failure = CycleFailure(FailureKind.IDENTITY, Step.HELLO, code, "Provisioned before.")
    status = SlotStatus("1", "/dev/pts/1", Phase.FAILED, "VB1-1", True, failure=failure)
    assert status.offers_reprovision
    assert next_action(status).startswith("P: re-provision")
    assert not SlotStatus("1", failure=FAIL).offers_reprovision


def test_shift_figures() -> None:
    stats = ShiftStats()
    assert (format_yield(stats), format_median(stats)) == ("—", "—")
    for elapsed in (2.0, 4.0, 3.0):
        stats = stats.record(
            CycleResult(
                slot="1", port="p", board_uid="u", failure=None, serial="s", elapsed=elapsed
            )
        )
    stats = stats.record(
        CycleResult(slot="1", port="p", board_uid="u", failure=FAIL, serial=None, elapsed=1.0)
    )
    stats = stats.record(
        CycleResult(slot="2", port="p", board_uid="u", failure=FAIL, serial=None, elapsed=1.0)
    )
    assert (stats.passed, stats.failed, stats.cycles) == (3, 2, 5)
    assert format_yield(stats) == "60.0%"
    assert format_median(stats) == "3.0 s"
    assert stats.failures == (("policy.key.weak", 2),)
    lines = ShiftSummary("st-1", "OP1", FIXED_WALL, FIXED_WALL, stats).lines()
    assert "Cycles 5: passed 3, failed 2, yield 60.0%" in lines
    assert "  2 x policy.key.weak" in lines


def test_big_letters_and_phrases() -> None:
    assert all(len(row) == 30 for row in big("PASS"))
    assert len(big("FAIL", tall=True)) == 5
    assert slots_phrase(["3"]) == "Slot 3 is"
    assert slots_phrase(["1", "3"]) == "Slots 1, 3 are"
