"""`station provision` as a real process: one JSON object per board, exit 0 only if all pass."""

from __future__ import annotations

import json
import sqlite3
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


def test_a_board_already_provisioned_exits_0_with_its_own_outcome(
    make_board: MakeBoard, home: Path
) -> None:
    done, fresh = make_board(), make_board()
    first = provision(home, "--operator", "op-3", "--json", "--port", done.url)
    assert first.returncode == 0, first.stdout + first.stderr
    serial = json.loads(first.stdout)["serial"]

    # The finished board is put back on the jig next to a new one (or `provision` is rerun).
    again = provision(home, "--operator", "op-3", "--json", "--port", done.url, "--port", fresh.url)
    assert again.returncode == 0, again.stdout + again.stderr
    back, new = (json.loads(line) for line in again.stdout.splitlines())
    assert (back["outcome"], back["passed"], back["failure"]) == (
        "already-provisioned",
        False,
        None,
    )
    assert back["serial"] == serial
    assert back["provisioned_at"]
    assert (new["outcome"], new["passed"]) == ("passed", True)

    text = provision(home, "--operator", "op-3", "--port", done.url)
    assert text.returncode == 0, text.stdout + text.stderr
    assert text.stdout.startswith(f"ALREADY PROVISIONED slot 1 {done.url} {done.identity.uid}")
    assert f"certificate {serial}, locked {back['provisioned_at'][:10]}" in text.stdout

    # Still a failure when another board on the same run fails.
    bad = make_board(Faults(bad_csr="weak-key"))
    mixed = provision(home, "--operator", "op-3", "--json", "--port", done.url, "--port", bad.url)
    assert mixed.returncode == 1
    outcomes = [json.loads(line)["outcome"] for line in mixed.stdout.splitlines()]
    assert outcomes == ["already-provisioned", "failed"]


def test_events_record_each_slot_as_text(make_board: MakeBoard, home: Path) -> None:
    boards = [make_board(), make_board()]
    ports = [arg for board in boards for arg in ("--port", board.url)]
    result = provision(home, "--operator", "op-3", *ports)
    assert result.returncode == 0, result.stdout + result.stderr
    conn = sqlite3.connect(home / "audit.db")
    rows = conn.execute("SELECT board_uid, slot, typeof(slot) FROM events").fetchall()
    conn.close()
    for n, board in enumerate(boards, start=1):
        mine = {(slot, kind) for uid, slot, kind in rows if uid == board.identity.uid}
        assert mine == {(str(n), "text")}


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
