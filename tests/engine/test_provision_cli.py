"""`station provision` as a real process: one JSON object per board, exit 0 only if all pass."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fixtures.board import BoardServer, Faults
from station.audit import AuditDB
from tests.engine.conftest import ENV

MakeBoard = Callable[..., BoardServer]


def provision(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "provision", *args],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_json_lines_and_exit_code(make_board: MakeBoard, home: Path) -> None:
    good, bad = make_board(), make_board(Faults(bad_csr="weak-key"))
    result = provision(home, "--operator", "op-3", "--json", "--port", good.url, "--port", bad.url)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["passed"] for r in records] == [True, False]
    assert records[0]["board"] == good.identity.uid
    assert records[1]["failure"]["kind"] == "policy-rejection"
    assert records[1]["failure"]["code"] == "policy.key.rsa_too_small"
    assert "Traceback" not in result.stderr
    log = (home / "logs" / "station.log").read_text()
    assert good.identity.uid in log
    assert "policy.key.rsa_too_small" in log


def test_expect_id_mismatch_stops_before_keygen(make_board: MakeBoard, home: Path) -> None:
    board = make_board()
    result = provision(
        home, "--operator", "op-3", "--port", board.url, "--expect-id", f"{board.url}=SOMEONE-ELSE"
    )
    assert result.returncode == 1
    assert "label says SOMEONE-ELSE" in result.stdout
    assert board.device.element.key_type is None
    ok = provision(
        home,
        "--operator",
        "op-3",
        "--port",
        board.url,
        "--expect-id",
        f"{board.url}={board.identity.uid}",
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_operator_is_required(make_board: MakeBoard, home: Path) -> None:
    env_without = {k: v for k, v in ENV.items() if k != "STATION_OPERATOR"}
    result = subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "provision", "--port", "x"],
        env=env_without,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--operator" in result.stderr


def test_boards_the_station_cannot_certify_are_refused_before_keygen(
    make_board: MakeBoard, home: Path
) -> None:
    """SPEC.md 1.1: a uid outside the alphabet, a chain store too small for the chain: refused
    right after HELLO with what the firmware must change; no key made, no certificate issued."""
    dotted, small = make_board(Faults(uid="VB1.A_B")), make_board(Faults(store=1000))
    result = provision(
        home, "--operator", "op-3", "--json", "--port", dotted.url, "--port", small.url
    )
    assert result.returncode == 1, result.stdout + result.stderr
    records = {r["board"]: r for r in map(json.loads, result.stdout.splitlines())}
    uid = records["VB1.A_B"]["failure"]
    assert (uid["code"], uid["step"]) == ("board.uid", "hello")
    assert "'.', '_', outside A-Z a-z 0-9 : -" in uid["message"]
    assert "fix the uid in the board's firmware" in uid["message"]
    store = records[small.identity.uid]["failure"]
    assert (store["code"], store["step"]) == ("board.chain-store", "hello")
    assert "can store 1000 bytes of certificate chain (HELLO says store=1000)" in store["message"]
    assert "the firmware must provide at least 4096 bytes" in store["message"]
    for board in (dotted, small):
        assert board.device.element.key_type is None  # no KEYGEN
    with AuditDB.open(home / "audit.db") as audit:
        assert audit.all_certificates() == []  # no certificate issued
