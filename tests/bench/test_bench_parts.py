"""The bench's parts: the step clock and the CPU figure's batches (pure), a rack of simulator
processes, batches of real cycles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from station.bench.boards import BOARDS_PER_PROCESS, SIM_MOST, SimProcess, SimRack
from station.bench.cpu import CpuRun, measure
from station.bench.cycles import median_gang
from station.bench.gangs import GangRun, StepClock
from station.bench.homes import make_home
from station.bench.repeats import Runs, repeat
from station.engine.events import CycleResult, Step, StepStarted
from station.line.watch import hello_probe


def test_the_step_clock_times_each_slot_s_steps_apart() -> None:
    times = iter([0.0, 0.5, 1.0, 1.25, 3.0, 4.0])
    steps = StepClock(clock=lambda: next(times))
    steps(StepStarted("1", Step.HELLO, 0.0))  # 0.0
    steps(StepStarted("2", Step.HELLO, 0.0))  # 0.5
    steps(StepStarted("1", Step.CSR, 1.0))  # 1.0: slot 1's HELLO took 1.0
    steps(StepStarted("2", Step.CSR, 0.75))  # 1.25: slot 2's HELLO took 0.75
    steps(CycleResult(slot="1", port="p", board_uid=None, failure=None, serial=None, elapsed=3))
    steps(CycleResult(slot="2", port="p", board_uid=None, failure=None, serial=None, elapsed=3))
    assert steps.mean(Step.HELLO) == pytest.approx(0.875)
    assert steps.mean(Step.CSR) == pytest.approx((2.0 + 2.75) / 2)
    assert steps.mean(Step.DELIVER) is None  # no cycle got there


def test_a_rack_spreads_its_boards_over_processes_and_stops_them(tmp_path: Path) -> None:
    rack = SimRack(BOARDS_PER_PROCESS + 1, tmp_path, ("no-boot-chatter",), mtu=1024)
    with rack as urls:
        assert len(set(urls)) == BOARDS_PER_PROCESS + 1
        hellos = [hello_probe(url) for url in urls]
        uids = {info.uid for info in hellos if info is not None}
        assert len(uids) == len(urls), "every board answers, each with its own identity"
        assert {info.mtu for info in hellos if info is not None} == {1024}
        pids = rack.pids
        assert len(set(pids)) == 2
        used = rack.cpu()
        assert used is not None
        assert used > 0
    for pid in pids:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_cpu_figure_is_the_quietest_batch_and_says_what_the_others_were() -> None:
    run = CpuRun(cpu=0.004, wall=0.05, readback_cpu=0.0, batches=(0.006, 0.004, 0.009, 0.005))
    assert run.median == pytest.approx(0.0055)
    assert run.spread() == "lowest of 4 batches (median 5.50: 6.00, 4.00, 9.00, 5.00)"


def test_cycles_are_timed_in_batches_and_the_lowest_is_the_figure(tmp_path: Path) -> None:
    home = tmp_path / "home"
    passphrase = make_home(home)
    # 3 warm-up + 4 boards over four simulator processes
    run = measure(home, passphrase, "ec-p256", 256, 4, tmp_path, batches=2, per_process=2)
    assert len(run.batches) == 2
    assert run.cpu == min(run.batches)
    assert all(b > 0 for b in run.batches)


def test_a_simulator_that_serves_fewer_boards_than_asked_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"served 0 boards and exited with 2"):  # noqa: SIM117
        with SimProcess(SIM_MOST + 1, tmp_path):
            pass


def test_a_rack_refuses_more_boards_a_process_than_a_simulator_serves(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"a simulator serves 1 to 64 boards, not 65"):
        SimRack(3, tmp_path, per_process=SIM_MOST + 1)


def test_a_gang_counts_by_the_run_of_median_wall_time() -> None:
    runs = [GangRun(4, wall, 0.005, None, StepClock()) for wall in (1.3, 0.9, 1.0)]
    assert median_gang(runs).wall == 1.0
    assert median_gang(runs[:2]).wall == 1.3  # of two, the slower: never the lucky one


def test_repeated_work_is_timed_each_time_and_the_fastest_run_counts() -> None:
    calls: list[int] = []

    def work(n: int) -> int:
        calls.append(n)
        return n * 10

    runs, last = repeat(3, work)
    assert calls == [0, 1, 2]
    assert last == 20
    assert len(runs.seconds) == 3
    assert runs.best == min(runs.seconds)
    assert Runs((2.5, 1.25, 3.0)).best == 1.25
    assert Runs((2.5, 1.25)).spread() == "fastest of 2 runs (2.50, 1.25 s)"
    with pytest.raises(ValueError, match="at least 1"):
        repeat(0, lambda n: n)
