"""Virtual boards in a separate process (`station sim`), so their CPU is not the station's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType


class SimProcess:
    """``with SimProcess(n, state, faults) as urls: ...``; the simulator is stopped on exit."""

    def __init__(
        self, count: int, state: Path, faults: tuple[str, ...] = (), mtu: int = 256
    ) -> None:
        self.count = count
        self.mtu = mtu
        self.state = state
        self.faults = faults
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> list[str]:
        args = [
            sys.executable,
            "-m",
            "station",
            "sim",
            "--boards",
            str(self.count),
            "--state",
            str(self.state),
        ]
        for fault in self.faults:
            args += ["--fault", fault]
        self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        return [self._proc.stdout.readline().strip() for _ in range(self.count)]

    @property
    def pid(self) -> int | None:
        """The simulator's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
