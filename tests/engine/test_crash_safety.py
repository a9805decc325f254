"""Crash safety: the station process is SIGKILLed at each step of the cycle in turn.

The board goes silent at the step (``hang``: before acting; ``mute``: after acting, its answer
lost), the station waits for it, and the test kills the station there. Afterwards the audit
chain verifies, every certificate any board holds is in the database, and a rerun completes the
board.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fixtures.board import BoardServer, Faults
from tests.engine.conftest import ENV

MakeBoard = Callable[..., BoardServer]

CASES = [
    Faults(hang="HELLO"),
    Faults(hang="KEYGEN"),
    Faults(mute="KEYGEN"),
    Faults(hang="GET_CSR"),
    Faults(hang="READ"),
    Faults(hang="PUT_CERT"),
    Faults(mute="PUT_CERT"),
    Faults(hang="GET_CERT", no_stored_digest=True),  # a 1.1 board: the readback
    Faults(hang="SIGN"),
    Faults(hang="LOCK"),
    Faults(mute="LOCK"),
]


def station(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "station", "--home", str(home), *args]


def certificates_in_db(home: Path) -> set[str]:
    conn = sqlite3.connect(home / "audit.db")
    try:
        return {row[0] for row in conn.execute("SELECT sha256 FROM certificates")}
    finally:
        conn.close()


def leaf_sha256(chain: bytes) -> str:
    cert = x509.load_pem_x509_certificates(chain)[0]
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.mark.parametrize("faults", CASES, ids=lambda f: f.describe())
def test_sigkill_at_each_step_loses_nothing_and_a_rerun_completes(
    make_board: MakeBoard, home: Path, faults: Faults
) -> None:
    board = make_board(faults)
    provision = station(home, "provision", "--operator", "op-9", "--timeout", "5", "--port")
    proc = subprocess.Popen(
        [*provision, board.url], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert board.stalled.wait(timeout=30), "the station never reached the step"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    verify = subprocess.run(
        station(home, "audit", "verify"), env=ENV, capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    chain = board.device.element.chain()
    if chain is not None:
        assert leaf_sha256(chain) in certificates_in_db(home), "a certificate on a board is lost"

    board.faults = Faults()
    rerun = subprocess.run(
        [*provision, board.url], env=ENV, capture_output=True, text=True, check=False, timeout=60
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.startswith("PASS")
    if faults.hang == "PUT_CERT" or faults.mute == "PUT_CERT":
        assert "was issued but never confirmed delivered" in rerun.stderr
    assert board.device.element.locked
    chain = board.device.element.chain()
    assert chain is not None
    assert leaf_sha256(chain) in certificates_in_db(home)
    verify = subprocess.run(
        station(home, "audit", "verify"), env=ENV, capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stdout
    conn = sqlite3.connect(home / "audit.db")
    statuses = [
        row[0]
        for row in conn.execute(
            "SELECT status FROM certificates WHERE board_uid = ?", (board.identity.uid,)
        )
    ]
    conn.close()
    assert statuses.count("locked") == 1
    assert "issued" not in statuses, "no orphan left undecided"
