"""The agent README's figures for the Cortex-M4 build are measured, and stay so: flash and RAM
from `arm-none-eabi-size`, and each key operation's peak heap and stack high-water mark as the
board reports them, within 5% of the README. (Times vary with the host's load: not checked.)"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from device_protocol import Link

from .qemu import ROOT
from .running import Agent

README = ROOT / "device_protocol" / "agent" / "README.md"
TOLERANCE = 0.05
_BUILD_ROW = re.compile(r"^\| (flash|RAM) \([a-z +]+\) \| (\d+) \|", re.MULTILINE)
_OP_ROW = re.compile(
    r"^\| (keygen|csr|sign) \| (ec-p256|ec-p384|rsa-2048) \| [^|]+ \| (\d+) \| \d+ \| (\d+) \|",
    re.MULTILINE,
)
_FIGURE = re.compile(r"^(\w+) (\S+) ms=\d+ heap=(\d+) blocks=\d+ stack=(\d+) ", re.MULTILINE)


def drifted(documented: dict[str, int], measured: dict[str, int]) -> list[str]:
    """Each figure whose documented value is off the measured one by more than TOLERANCE."""
    assert documented.keys() == measured.keys(), (sorted(documented), sorted(measured))
    return [
        f"{name}: README {documented[name]}, measured {measured[name]}"
        for name in sorted(measured)
        if abs(documented[name] - measured[name]) > TOLERANCE * measured[name]
    ]


def test_flash_and_ram_in_the_readme_match_the_build(qemu_elf: Path) -> None:
    size = subprocess.run(
        ["arm-none-eabi-size", str(qemu_elf)], capture_output=True, text=True, check=True
    )
    text, data, bss = (int(x) for x in size.stdout.splitlines()[1].split()[:3])
    documented = {name: int(value) for name, value in _BUILD_ROW.findall(README.read_text())}
    assert not drifted(documented, {"flash": text + data, "RAM": data + bss})


def test_heap_and_stack_in_the_readme_match_the_board(start_qemu: Callable[..., Agent]) -> None:
    board = start_qemu("figures")
    with Link.open_url(board.url) as link:
        link.hello()
        for key_type in ("ec-p256", "ec-p384", "rsa-2048"):
            link.keygen(key_type)
            link.get_csr()
            link.sign(os.urandom(32))
    assert board.stop() == 0
    measured: dict[str, int] = {}
    for op, key_type, heap, stack in _FIGURE.findall((board.state / "figures").read_text()):
        measured[f"{op} {key_type} heap"] = int(heap)
        measured[f"{op} {key_type} stack"] = int(stack)
    documented: dict[str, int] = {}
    for op, key_type, heap, stack in _OP_ROW.findall(README.read_text()):
        documented[f"{op} {key_type} heap"] = int(heap)
        documented[f"{op} {key_type} stack"] = int(stack)
    assert not drifted(documented, measured)
