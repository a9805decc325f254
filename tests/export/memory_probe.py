"""Peak memory of `export_audit` over N seeded events (a script and a test helper).

Run: ``.venv/bin/python -m tests.export.memory_probe 100000`` prints the tracemalloc peak
during the export and the process's maximum resident set size.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from station.audit import AuditDB, EventContext, NewEvent
from station.audit.export import ExportRequest, export_audit
from station.pki.audit_signer import AuditSigner, build_signer_certificate, signer_name
from station.pki.ca import CaValidity, build_intermediate, build_root, intermediate_name, root_name

START = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def make_signer() -> tuple[AuditSigner, x509.Certificate]:
    """An in-memory root -> intermediate -> audit signer; returns the signer and the root."""
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = build_root(root_key, root_name("Probe"), CaValidity(now, 3650), 1)
    key = ec.generate_private_key(ec.SECP256R1())
    inter = build_intermediate(
        root, root_key, key.public_key(), intermediate_name("Probe", "p"), CaValidity(now, 3650), 2
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    cert = build_signer_certificate(
        inter, key, signer_key.public_key(), signer_name("Probe", "p"), now=now, days=30, serial=3
    )
    return AuditSigner(cert, signer_key, inter), root


def synthetic_events(n: int) -> Iterator[tuple[NewEvent, EventContext, datetime]]:
    """Cycles of STARTED then LOCKED (or FAILED every 7th), over 16 slots and 3 operators."""
    for i in range(n):
        cycle, step = divmod(i, 2)
        slot = str(cycle % 16 + 1)
        ctx = EventContext("probe", f"op-{cycle % 3}", slot, f"/dev/pts/{cycle % 16}")
        at = START + timedelta(seconds=cycle * 3 + step * (2 + cycle % 5))
        uid = f"VB-{cycle:08d}"
        if step == 0:
            event = NewEvent("STARTED", uid, data={"state": "blank"})
        elif cycle % 7 == 0:
            event = NewEvent("FAILED", uid, code="board-error.STORAGE_FAILED", text="flash failed")
        else:
            event = NewEvent("LOCKED", uid, data={"previous_status": "verified"})
        yield event, ctx, at


def seed(path: Path, n: int) -> AuditDB:
    audit = AuditDB.open(path)
    audit.record_events(synthetic_events(n))
    return audit


def measure(folder: Path, n: int, signer: AuditSigner) -> tuple[int, float]:
    """(tracemalloc peak bytes during the export, export seconds) for ``n`` seeded events."""
    with seed(folder / f"audit-{n}.db", n) as audit:
        request = ExportRequest(folder / f"export-{n}", datetime.now(UTC))
        tracemalloc.start()
        started = time.perf_counter()
        export_audit(audit, request, signer, EventContext("probe"))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        peak, elapsed = measure(Path(tmp), n, make_signer()[0])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"{n} events: export {elapsed:.2f}s (under tracemalloc), Python peak {peak / 1024:.0f} KiB"
    )
    print(f"process max RSS {rss / 1024:.1f} MiB (interpreter, cryptography, SQLite cache)")


if __name__ == "__main__":
    main()
