"""`station -v` (the wire trace on stderr), log timestamps with their UTC offset, and
`station --version` naming the libraries, as real processes against a real pty board."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from pathlib import Path

from fixtures.board import BoardServer
from station.engine.events import ConsoleText
from station.logbook import Logbook

MakeBoard = Callable[..., BoardServer]
STATION = [sys.executable, "-m", "station"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STATION, *args], capture_output=True, text=True, timeout=60, check=False
    )


def aware(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp)
    assert at.utcoffset() is not None, f"{stamp} has no UTC offset"
    return at


def test_verbose_traces_every_frame_in_and_out_on_stderr(make_board: MakeBoard) -> None:
    board = make_board()
    done = run("-v", "probe", "--port", board.url, "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)  # the trace stays off stdout
    assert record["board"] == record["uid"] == board.identity.uid, "a board result names the board"
    trace = [line.split(" ", 3) for line in done.stderr.splitlines()]
    wire = [rest for _, name, level, rest in trace if name == "device_protocol.trace"]
    assert all(level == "DEBUG" for _, _, level, _ in trace)
    for stamp, *_ in trace:
        aware(stamp)
    out = [w for w in wire if w.startswith(f"{board.url} > ")]
    back = [w for w in wire if w.startswith(f"{board.url} < ")]
    assert re.fullmatch(rf"{re.escape(board.url)} > ~P1 \d+ HELLO v=1\*[0-9a-f]{{8}}", out[0]), out
    assert any(" OK " in w and f"uid={board.identity.uid}" in w for w in back), back


def test_quiet_without_verbose(make_board: MakeBoard) -> None:
    board = make_board()
    done = run("probe", "--port", board.url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_version_names_the_libraries() -> None:
    done = run("--version")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("station ")
    for name in ("cryptography", "textual", "pyserial"):
        assert f"{name} {metadata.version(name)}" in lines
    assert any(re.match(r"OpenSSL \d+\.\d+\.\d+", line) for line in lines), lines


def test_station_log_lines_carry_their_utc_offset(tmp_path: Path) -> None:
    logbook = Logbook(tmp_path / "station.log", "st-1")
    logbook(ConsoleText("2", "boot ok"))
    logbook.close()
    stamp, rest = (tmp_path / "station.log").read_text().rstrip("\n").split(" ", 1)
    assert rest == "st-1 slot 2 console | boot ok"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", stamp), stamp
    assert abs((aware(stamp) - datetime.now().astimezone()).total_seconds()) < 60
