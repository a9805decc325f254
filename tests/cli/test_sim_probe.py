"""`station sim`, `station probe`, `station demo` as real processes: exit codes, one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.board import BoardServer, Faults
from fixtures.noise import NoisePort

MakeBoard = Callable[..., BoardServer]
STATION = [sys.executable, "-m", "station"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STATION, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")


def test_probe_prints_the_hello(make_board: MakeBoard) -> None:
    board = make_board()
    result = run("probe", "--port", board.url, "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["uid"] == board.identity.uid
    assert record["state"] == "blank"
    assert record["mtu"] == board.identity.mtu


def test_probe_on_random_bytes_fails_in_one_line_within_its_timeout() -> None:
    with NoisePort(seed=4) as url:
        start = time.monotonic()
        result = run("probe", "--port", url, "--timeout", "1")
        elapsed = time.monotonic() - start
    assert_one_line_error(result)
    assert url in result.stderr
    assert "not one valid frame" in result.stderr
    assert "baud rate" in result.stderr
    assert elapsed < 4 * 1.0 + 3  # (retries + 1) x timeout, plus interpreter start-up


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(Faults(hang="HELLO"), id="hang"),
        pytest.param(Faults(disconnect="HELLO"), id="disconnect"),
        pytest.param(Faults(corrupt=1.0), id="all-garbage"),
    ],
)
def test_probe_faults_give_one_line_errors(make_board: MakeBoard, faults: Faults) -> None:
    board = make_board(faults)
    result = run("probe", "--port", board.url, "--timeout", "0.5")
    assert_one_line_error(result)


def test_probe_on_a_missing_port() -> None:
    result = run("probe", "--port", "/dev/does-not-exist")
    assert_one_line_error(result)
    assert "cannot open" in result.stderr


def test_sim_serves_boards_until_terminated(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*STATION, "sim", "--boards", "2", "--state", str(tmp_path), "--fault", "2:hang@KEYGEN"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().strip() for _ in range(2)]
        for url in urls:
            assert Path(url).exists()
            result = run("probe", "--port", url, "--json")
            assert result.returncode == 0, result.stderr
        uids = {p.name for p in tmp_path.iterdir()}
        assert len(uids) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not any(Path(url).exists() for url in urls), "ptys are gone with the simulator"


def test_sim_rejects_a_bad_fault_spec(tmp_path: Path) -> None:
    result = run("sim", "--state", str(tmp_path), "--fault", "3:hang@KEYGEN")
    assert result.returncode == 2
    assert "board 3 is not in 1..2" in result.stderr


def test_demo_is_the_operator_app_and_documents_itself() -> None:
    # The demo itself is interactive; tests/tui drives it through Textual's pilot.
    result = run("demo", "--help")
    assert result.returncode == 0, result.stderr
    assert "--boards" in result.stdout
    assert "virtual boards" in result.stdout
