"""The C agent on an emulated Cortex-M4 (QEMU mps2-an386), built by `make agent-qemu`: a board
whose UART is a pty and whose storage is a folder, started and stopped like a real one."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .running import Agent

ROOT = Path(__file__).resolve().parents[2]
ELF = ROOT / "build" / "qemu" / "station-agent.elf"
_PTY = re.compile(r"char device redirected to (/dev/pts/\d+)")


def qemu_command(elf: Path) -> list[str]:
    """The command `make agent-qemu-run` runs (from the Makefile, so that both stay one)."""
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-n", "agent-qemu-run", "AGENT_STATE=STATE"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("cd STATE && exec "))
    words = line.removeprefix("cd STATE && exec ").split()
    return [w for w in words if w != "-kernel" and not w.endswith(".elf")] + ["-kernel", str(elf)]


@pytest.fixture(scope="session")
def qemu_elf() -> Path:
    """`make agent-qemu` (installs the toolchain, QEMU and mbedTLS's source when missing)."""
    done = subprocess.run(
        ["make", "-C", str(ROOT), "agent-qemu"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return ELF


@pytest.fixture
def start_qemu(qemu_elf: Path, tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    """Start a board by name; the same name again (after stop) is the same board."""
    started: list[Agent] = []
    command = qemu_command(qemu_elf)

    def start(name: str = "board", *options: str) -> Agent:
        """QEMU with its storage in tmp_path/qemu-NAME, more QEMU options, stderr to NAME.log."""
        state = tmp_path / f"qemu-{name}"
        state.mkdir(exist_ok=True)
        with (tmp_path / f"qemu-{name}.log").open("a") as log:
            process = subprocess.Popen(
                [*command[:-2], *options, *command[-2:]],
                cwd=state,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert process.stdout is not None
        line = process.stdout.readline()  # QEMU prints the pty's path on stdout
        found = _PTY.search(line)
        assert found, f"QEMU did not print its pty: {line!r}"
        board = Agent(process, found.group(1), state)
        started.append(board)
        return board

    yield start
    for board in started:
        board.stop()
