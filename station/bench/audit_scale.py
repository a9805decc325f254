"""The audit database at scale: per-board cost with a million certificates, verify time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from cryptography import x509

from station.audit import AuditDB
from station.audit.checkpoint import newest_checkpoint, verify_from_checkpoint
from station.audit.history import board_history
from station.audit.readonly import connect_readonly
from station.audit.records import parse_timestamp
from station.audit.verify import walk_file
from station.audit.verify_file import verify_file
from station.bench.boards import SimProcess
from station.bench.figures import Figure, at_most, info
from station.bench.homes import make_home, open_context
from station.bench.repeats import repeat
from station.bench.seed import seed
from station.config import load_config
from station.engine.cycle import Cycle, CycleOptions
from station.home import StationHome
from station.pki.ca import load_certificate

CYCLES = 20
SHIFT = 10_000
# `audit show` of one board reads through indexes: milliseconds at any size (a scan of every
# event took about 6 s at a million boards).
SHOW_MS = 50
LOOKUPS = 20
#: Runs of each timed verify (20 s each at a million certificates) and of each command that
#: takes about a second; the fastest counts (see :mod:`station.bench.repeats`).
VERIFY_RUNS = 2
QUICK_RUNS = 3


def _per_board(home: Path, passphrase: str, state: Path) -> tuple[float, float]:
    """Wall and CPU seconds per board over CYCLES cycles (boards in another process)."""
    station = open_context(home, passphrase)
    try:
        with SimProcess(CYCLES + 1, state, ("no-boot-chatter",)) as urls:
            Cycle(station, "0", urls[0], CycleOptions(operator="bench")).run()  # warm up
            cpu0, wall0 = time.process_time(), time.perf_counter()
            results = [
                Cycle(station, "1", u, CycleOptions(operator="bench")).run() for u in urls[1:]
            ]
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        station.audit.close()
    if not all(r.passed for r in results):
        raise RuntimeError(f"bench cycles failed: {[r.failure for r in results][:3]}")
    return wall / CYCLES, cpu / CYCLES


def template_certificate(home: Path, passphrase: str, state: Path) -> x509.Certificate:
    station = open_context(home, passphrase)
    try:
        with SimProcess(1, state, ("no-boot-chatter",)) as urls:
            result = Cycle(station, "1", urls[0], CycleOptions(operator="bench")).run()
        row = station.audit.certificate(result.serial or "")
    finally:
        station.audit.close()
    assert row is not None
    return x509.load_pem_x509_certificate(row.pem.encode())


def audit_at_scale(work: Path, certificates: int) -> list[Figure]:
    empty = work / "audit-empty"
    big = work / "audit-big"
    pass_empty = make_home(empty)
    pass_big = make_home(big)
    template = template_certificate(empty, pass_empty, work / "tmpl-boards")
    shift = min(SHIFT, certificates // 2)
    t0 = time.perf_counter()
    # The boards before the last shift, a checkpoint (an export's signed head), the shift.
    events, _ = seed(big / "audit.db", template, certificates - shift, "bench-1")
    _checkpoint(big, pass_big, work)
    shift_events, since = seed(big / "audit.db", template, shift, "bench-1", certificates - shift)
    seeding = time.perf_counter() - t0
    events += shift_events
    size = (big / "audit.db").stat().st_size
    empty_wall, empty_cpu = _per_board(empty, pass_empty, work / "boards-empty")
    big_wall, big_cpu = _per_board(big, pass_big, work / "boards-big")
    walks, state = repeat(VERIFY_RUNS, lambda _: walk_file(big / "audit.db"))
    del state  # a million certificates' statuses: not to be carried into the next processes
    verifies, (state, found) = repeat(VERIFY_RUNS, lambda _: verify_file(big / "audit.db"))
    if found or state.broken_at is not None:
        raise RuntimeError(f"seeded database does not verify: {found[:3]}")
    events_walked = state.count
    del state
    checkpoints, after = repeat(QUICK_RUNS, lambda _: _verify_from_checkpoint(big))
    checkpoint_commands, _ = repeat(
        QUICK_RUNS, lambda _: _command(big, "audit", "verify", "--from-checkpoint", "--json")
    )
    label = f"{certificates:,} certificates"
    exports, peak_kib = repeat(
        QUICK_RUNS, lambda n: _export(big, pass_big, work / f"shift-export-{n}", since)
    )
    show_lookup = _board_lookups(big / "audit.db", certificates)
    show_seconds = _command(big, "audit", "show", f"SEED-{certificates // 2:08d}", "--json")
    return [
        info(f"seeding {label}", seeding, "s", f"{events:,} events, {size / 1e9:.2f} GB"),
        at_most(
            f"per-board wall, {label} vs empty",
            big_wall / empty_wall,
            1.25,
            "x",
            f"{big_wall * 1000:.1f} ms vs {empty_wall * 1000:.1f} ms (unpaced boards)",
        ),
        at_most(
            f"per-board CPU, {label} vs empty",
            big_cpu / max(empty_cpu, 1e-9),
            1.25,
            "x",
            f"{big_cpu * 1000:.1f} ms vs {empty_cpu * 1000:.1f} ms",
        ),
        at_most(
            f"audit verify chain, {label}",
            walks.best,
            20,
            "s",
            f"{events_walked:,} events walked; {walks.spread()}",
        ),
        at_most(
            f"audit verify chain + records, {label}",
            verifies.best,
            20,
            "s",
            f"what `station audit verify` does; {os.cpu_count()} cores; {verifies.spread()}",
        ),
        at_most(
            f"audit verify from checkpoint, a {shift:,}-board shift after it, {label}",
            checkpoints.best,
            1,
            "s",
            f"{after:,} events after the signed head: signature, signer chain, anchor, chain, "
            f"their certificates; {checkpoints.spread()}",
        ),
        info(
            f"`station audit verify --from-checkpoint` command, {label}",
            checkpoint_commands.best,
            "s",
            "the same in a new process (the interpreter's start and imports included); "
            f"{checkpoint_commands.spread()}",
        ),
        at_most(
            f"export a {shift:,}-board shift from {label}",
            exports.best,
            2,
            "s",
            f"the whole `station audit export` command; peak RSS {peak_kib / 1024:.0f} MiB; "
            f"{exports.spread()}",
        ),
        info(f"export peak RSS, {shift:,}-board shift", peak_kib / 1024, "MiB"),
        at_most(
            f"audit show one board, {label}",
            show_lookup * 1000,
            SHOW_MS,
            "ms",
            f"slowest of {LOOKUPS} boards' certificates and events (indexed reads)",
        ),
        info(
            f"`station audit show` command, {label}",
            show_seconds,
            "s",
            "a new process: the interpreter's start and imports are most of it",
        ),
    ]


def _checkpoint(home: Path, passphrase: str, work: Path) -> None:
    """A signed checkpoint at the head: an export of the newest board's events."""
    conn = connect_readonly(home / "audit.db")
    try:
        newest = str(conn.execute("SELECT MAX(at) FROM events").fetchone()[0])
    finally:
        conn.close()
    _export(home, passphrase, work / "checkpoint", parse_timestamp(newest))


def _verify_from_checkpoint(home: Path) -> int:
    """Verify from the newest export's signed head; the events after it."""
    config = load_config(StationHome(home))
    root = load_certificate(config.ca.root_cert)
    checkpoint = newest_checkpoint(config.home.audit_db, root, config.station.id)
    result = verify_from_checkpoint(config.home.audit_db, checkpoint)
    if result.findings:
        raise RuntimeError(f"bench verify from checkpoint: {result.findings[:3]}")
    return result.state.count


def _board_lookups(db_path: Path, certificates: int) -> float:
    """Seconds of the slowest of LOOKUPS `audit show` reads (board_history), spread over the
    seeded boards, on a database opened afresh."""
    slowest = 0.0
    with AuditDB.open(db_path) as db:
        for n in range(LOOKUPS):
            uid = f"SEED-{(2 * n + 1) * certificates // (2 * LOOKUPS):08d}"
            start = time.perf_counter()
            history = board_history(db, uid)
            slowest = max(slowest, time.perf_counter() - start)
            if len(history.events) != 5:
                raise RuntimeError(f"bench audit show: {uid} has {len(history.events)} events")
    return slowest


def _command(home: Path, *args: str) -> float:
    """Seconds of `station --home HOME ARGS...` (a new process, as an auditor runs it)."""
    argv = [sys.executable, "-m", "station", "--home", str(home), *args]
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"bench {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
    return seconds


def _export(home: Path, passphrase: str, out: Path, since: datetime) -> int:
    """`station audit export --since` (every event from ``since`` on) in a new process; its
    peak RSS (KiB)."""
    env = {**os.environ, "STATION_CA_PASSPHRASE": passphrase}
    args = [
        sys.executable,
        "-m",
        "station.bench.export_probe",
        "--home",
        str(home),
        "audit",
        "export",
        "--out",
        str(out),
        "--since",
        since.isoformat(),
    ]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"bench export failed: {result.stderr.strip()[-500:]}")
    return next(
        int(line.split()[1])
        for line in result.stderr.splitlines()
        if line.startswith("PEAK_RSS_KIB")
    )
