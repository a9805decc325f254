"""The factory store's figures (DESIGN section 7): ingest rate and catch-up time of a station
offline for a shift, the added cost of a key reservation, and the memory a catch-up holds.

Needs a PostgreSQL the bench may write to (``station bench --factory-url``): it makes its own
schema state there (the migrations) and writes one bench station, ``bench-<pid>``.
"""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.audit import AuditDB
from station.bench.figures import Figure, at_least, at_most, info
from station.bench.seed import seed
from station.factory.local_chain import LocalChain
from station.factory.store import Store
from station.factory.sync import sync

RESERVATIONS = 500


def _template() -> x509.Certificate:
    """A certificate of a realistic size for the seeded ISSUED events."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-board-0000000000")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1 << 158 | int.from_bytes(os.urandom(19), "big"))  # 20 bytes: seed.py
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=7300))
        .sign(key, hashes.SHA256())
    )


def _catch_up(store: Store, db: Path, station_id: str) -> tuple[int, float]:
    """Events pushed and seconds."""
    start = time.perf_counter()
    with LocalChain(db) as chain:
        report = sync(store, chain, station_id, "bench")
    seconds = time.perf_counter() - start
    if report.diverged:
        raise RuntimeError(f"bench station diverged: {report.head.diverged_reason}")
    return report.pushed, seconds


def _peak(store: Store, db: Path, station_id: str) -> int:
    """Peak bytes of Python allocations while catching up (traced apart from the timing:
    tracing slows the Python side several times)."""
    tracemalloc.start()
    try:
        _catch_up(store, db, station_id)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def factory_store(work: Path, url: str, boards: int) -> list[Figure]:
    station_id = f"bench-{os.getpid()}"
    template = _template()
    dbs = {name: work / f"{name}.db" for name in ("shift", "small", "large")}
    sizes = {"shift": boards, "small": max(1, boards // 5), "large": boards}
    for name, path in dbs.items():
        AuditDB.open(path).close()
        seed(path, template, sizes[name], f"{station_id}-{name}")
    with Store.connect(url, migrate_schema=True) as store:
        events, seconds = _catch_up(store, dbs["shift"], f"{station_id}-shift")
        small_peak = _peak(store, dbs["small"], f"{station_id}-small")
        peak = _peak(store, dbs["large"], f"{station_id}-large")
        start = time.perf_counter()
        for n in range(RESERVATIONS):
            spki = hashlib.sha256(f"{station_id}/reserve/{n}".encode()).hexdigest()
            if store.reserve(station_id, "bench", spki, f"R-{n}").outcome != "reserved":
                raise RuntimeError("bench reservation refused")
        per_reservation = (time.perf_counter() - start) / RESERVATIONS * 1000
    shift = f"a {boards:,}-board shift ({events:,} events)"
    return [
        at_least("factory ingest", events / seconds, 20_000, "ev/s", f"catching up {shift}"),
        at_most("factory catch-up", seconds, 10, "s", shift),
        at_most("factory reservation", per_reservation, 2, "ms", "per board, local server"),
        info(
            "factory catch-up memory",
            peak / 1024,
            "KiB",
            f"peak Python allocations; {small_peak / 1024:.0f} KiB for a fifth of the events",
        ),
    ]
