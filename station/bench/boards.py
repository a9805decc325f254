"""Virtual boards in separate processes (`station sim`), so their CPU is not the station's."""

from __future__ import annotations

import contextlib
import os
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
            "--mtu",
            str(self.mtu),
        ]
        for fault in self.faults:
            args += ["--fault", fault]
        self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        urls = [self._proc.stdout.readline().strip() for _ in range(self.count)]
        if not all(urls):
            code = self._proc.wait(timeout=30)
            raise RuntimeError(
                f"`station sim --boards {self.count}` served {sum(map(bool, urls))} boards and "
                f"exited with {code}: see its error above"
            )
        return urls

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


def _process_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux's /proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: Boards per simulator process in :class:`SimRack` by default: real boards each bring their
#: own CPU, and 32 of them in one Python process queue on its one interpreter lock (their answers
#: came later the more boards answered at once), which no jig of real boards does.
BOARDS_PER_PROCESS = 8
#: The most boards one `station sim` process serves (its --boards limit).
SIM_MOST = 64


class SimRack:
    """``with SimRack(n, state, faults) as urls: ...``: ``n`` boards (each stating ``mtu`` in
    HELLO) over as many simulator processes of ``per_process`` boards as it takes; ``pids``
    while they run."""

    def __init__(
        self,
        count: int,
        state: Path,
        faults: tuple[str, ...] = (),
        *,
        mtu: int = 256,
        per_process: int = BOARDS_PER_PROCESS,
    ) -> None:
        if not 1 <= per_process <= SIM_MOST:
            raise ValueError(f"a simulator serves 1 to {SIM_MOST} boards, not {per_process}")
        self.count = count
        self.state = state
        self.faults = faults
        self.mtu = mtu
        self.per_process = per_process
        self._stack = contextlib.ExitStack()
        self._sims: list[SimProcess] = []

    def __enter__(self) -> list[str]:
        urls: list[str] = []
        with self._stack as stack:
            while len(urls) < self.count:
                size = min(self.per_process, self.count - len(urls))
                folder = self.state / f"sim-{len(self._sims)}"
                sim = SimProcess(size, folder, self.faults, mtu=self.mtu)
                urls += stack.enter_context(sim)
                self._sims.append(sim)
            self._stack = stack.pop_all()
        return urls

    @property
    def pids(self) -> list[int | None]:
        """Its simulator processes' ids."""
        return [sim.pid for sim in self._sims]

    def cpu(self) -> float | None:
        """CPU seconds its simulator processes have used so far, or None where not known."""
        used = [_process_cpu(sim.pid) for sim in self._sims]
        return None if None in used else sum(u for u in used if u is not None)

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()
