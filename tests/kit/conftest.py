"""The C reference agent as a real process on a real pty, built by `make agent`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engine.conftest import home, station, template_home

from .qemu import qemu_elf, start_qemu
from .running import Agent

__all__ = ["home", "qemu_elf", "start_qemu", "station", "template_home"]

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "build" / "agent" / "station-agent"


@pytest.fixture(scope="session")
def agent_binary() -> Path:
    """`make agent` (installs libmbedtls-dev if missing); -Werror makes a warning a failure."""
    done = subprocess.run(
        ["make", "-C", str(ROOT), "agent"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return AGENT


@pytest.fixture
def start_agent(agent_binary: Path, tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    started: list[Agent] = []

    def start(name: str = "board", *options: str) -> Agent:
        """Start the agent with its storage in tmp_path/agent-NAME and more command-line options."""
        state = tmp_path / f"agent-{name}"
        process = subprocess.Popen(
            [str(agent_binary), "--state", str(state), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("/dev/"), url
        agent = Agent(process, url, state)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()
