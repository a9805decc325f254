"""`station bench --soak N`: N cycles over virtual boards with random faults and random SIGKILLs
of the station, then the checks that matter: nothing lost, the chain intact, every failure
explained, every board in a defined state.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fixtures.board import BoardIdentity, BoardServer, Faults
from fixtures.board.faults import parse_fault
from station.audit.certificates import CertificateStatus
from station.bench.homes import make_home

SLOTS = 8
KILL_CHANCE = 0.3
FAULTS = (
    "corrupt=0.003",
    "drop=0.002",
    "chatter=0.5",
    "hang@KEYGEN",
    "hang@PUT_CERT",
    "hang@LOCK",
    "mute@PUT_CERT",
    "mute@LOCK",
    "disconnect@GET_CSR",
    "disconnect@PUT_CERT",
    "bad-csr=signature",
    "bad-csr=weak-key",
    "bad-csr=foreign-subject",
    "flash-fail",
    "wrong-key",
)


@dataclass
class SoakReport:
    cycles: int = 0
    passed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    boards: int = 0
    lost: list[str] = field(default_factory=list)
    unexplained: int = 0
    undefined: list[str] = field(default_factory=list)
    verify_ok: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verify_ok and not (self.lost or self.unexplained or self.undefined)

    def lines(self) -> list[str]:
        out = [
            f"cycles attempted   {self.cycles}",
            f"passed             {self.passed}",
            f"failed             {sum(self.failed.values())}",
            f"station SIGKILLs   {self.kills}",
            f"boards             {self.boards}",
            f"lost certificates  {len(self.lost)}",
            f"unexplained fails  {self.unexplained}",
            f"undefined boards   {len(self.undefined)}",
            f"audit verify       {'OK' if self.verify_ok else 'FAILED'}",
            f"time               {self.seconds:.0f} s",
        ]
        out += [f"  fail {code}: {n}" for code, n in self.failed.most_common()]
        return out


def _leaf_sha256(chain: bytes) -> str:
    cert = x509.load_pem_x509_certificates(chain)[0]
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class Soak:
    def __init__(self, work: Path, seed: int, log: Callable[[str], None]) -> None:
        self.work = work
        self.rng = random.Random(seed)
        self.log = log
        self.home = work / "home"
        self.env = {**os.environ, "STATION_CA_PASSPHRASE": make_home(self.home)}
        self.boards: list[BoardServer] = []
        self.report = SoakReport()

    def _board(self) -> BoardServer:
        board = BoardServer(
            BoardIdentity.random(), self.work / "boards", seed=self.rng.randrange(1 << 30)
        )
        board.start()
        self.boards.append(board)
        self.report.boards += 1
        return board

    def _finished(self, board: BoardServer) -> bool:
        """Locked, holding the certificate the database records as locked for it."""
        chain = board.device.element.chain()
        if not board.device.element.locked or chain is None:
            return False
        conn = sqlite3.connect(self.home / "audit.db")
        try:
            row = conn.execute(
                "SELECT status FROM certificates WHERE sha256 = ? AND board_uid = ?",
                (_leaf_sha256(chain), board.identity.uid),
            ).fetchone()
        finally:
            conn.close()
        return row is not None and row[0] == CertificateStatus.LOCKED

    def _provision(self, boards: list[BoardServer], kill: bool) -> list[dict[str, object]]:
        args = [
            sys.executable,
            "-m",
            "station",
            "--home",
            str(self.home),
            "provision",
            "--operator",
            "soak",
            "--timeout",
            "0.5",
            "--json",
        ]
        for board in boards:
            args += ["--port", board.url]
        proc = subprocess.Popen(
            args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        if kill:
            try:
                proc.wait(timeout=self.rng.uniform(0.3, 2.5))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                self.report.kills += 1
        out, _ = proc.communicate(timeout=300)
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def run(self, cycles: int) -> SoakReport:
        start = time.perf_counter()
        slots = [self._board() for _ in range(SLOTS)]
        while self.report.cycles < cycles:
            for board in slots:
                board.faults = Faults()
                if self.rng.random() < 0.5:
                    board.faults = parse_fault(self.rng.choice(FAULTS))
            results = self._provision(slots, kill=self.rng.random() < KILL_CHANCE)
            self.report.cycles += len(slots)
            for record in results:
                if record["passed"]:
                    self.report.passed += 1
                else:
                    failure = record["failure"]
                    assert isinstance(failure, dict)
                    self.report.failed[str(failure["code"]).split(".")[0]] += 1
            for i, board in enumerate(slots):
                board.faults = Faults()
                if not board.connected:
                    board.start()  # plugged back in after a disconnect
                if self._finished(board):
                    board.stop()  # off the jig; its secure element stays on disk for the checks
                    slots[i] = self._board()  # the next board on the line
            self.log(
                f"{self.report.cycles} cycles, {self.report.passed} passed, "
                f"{self.report.kills} kills"
            )
        for board in self.boards:  # finish every board left mid-way, no faults
            board.faults = Faults()
        pending = [b for b in self.boards if not self._finished(b)]
        for i in range(0, len(pending), SLOTS):  # the operator retries each unfinished board
            self._provision(pending[i : i + SLOTS], kill=False)
        self._check()
        for board in self.boards:
            board.stop()
        self.report.seconds = time.perf_counter() - start
        return self.report

    def _check(self) -> None:
        conn = sqlite3.connect(self.home / "audit.db")
        try:
            certs = {
                sha: (status, uid)
                for sha, status, uid in conn.execute(
                    "SELECT sha256, status, board_uid FROM certificates"
                )
            }
            self.report.unexplained = conn.execute(
                "SELECT COUNT(*) FROM events WHERE kind = 'FAILED' AND "
                "(code IS NULL OR code = '' OR text IS NULL OR text = '')"
            ).fetchone()[0]
            issued = conn.execute(
                "SELECT COUNT(*) FROM certificates WHERE status = ?",
                (CertificateStatus.ISSUED.value,),
            ).fetchone()[0]
        finally:
            conn.close()
        for board in self.boards:
            chain = board.device.element.chain()
            uid = board.identity.uid
            if chain is not None:
                sha = _leaf_sha256(chain)
                if sha not in certs:
                    self.report.lost.append(uid)
                elif board.device.element.locked and certs[sha][0] != CertificateStatus.LOCKED:
                    self.report.undefined.append(f"{uid}: locked, record {certs[sha][0]}")
            if not self._finished(board):
                self.report.undefined.append(f"{uid}: not provisioned after the final retry")
        if issued:
            self.report.undefined.append(f"{issued} certificates left issued, undelivered")
        verify = subprocess.run(
            [sys.executable, "-m", "station", "--home", str(self.home), "audit", "verify"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.report.verify_ok = verify.returncode == 0


def soak(cycles: int, seed: int, log: Callable[[str], None]) -> SoakReport:
    with tempfile.TemporaryDirectory(prefix="station-soak-") as tmp:
        return Soak(Path(tmp), seed, log).run(cycles)
