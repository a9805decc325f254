"""`station audit verify` of a database file on every core.

One pool of worker processes takes two kinds of task: sequence ranges of the event chain
(:func:`station.audit.chain_read.walk_range`, merged in order, the links between ranges checked
on merge) and rowid ranges of the certificates table, each row's PEM against its recorded
fingerprint (the costly part of the records check, needing no event). The PEM tasks are queued
behind the walks: while they run, this process compares each certificate row's status and
fingerprint with what the merged walk replayed, instead of after the pool with a core idle.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from station.audit.chain_read import walk_range
from station.audit.chain_scan import ChainState
from station.audit.readonly import connect_readonly
from station.audit.verify import Finding, compare_records, pem_sha256, ranges


def pem_mismatches(path: Path, lo: int, hi: int) -> set[str]:
    """Serials of certificates (rowid ``lo..hi``) whose PEM does not hold the DER their
    ``sha256`` names."""
    conn = connect_readonly(path)
    try:
        rows = conn.execute(
            "SELECT serial, sha256, pem FROM certificates WHERE rowid BETWEEN ? AND ?", (lo, hi)
        )
        return {serial for serial, sha, pem in rows if pem_sha256(pem) != sha}
    finally:
        conn.close()


def _rowid_ranges(first: int, last: int, parts: int) -> list[tuple[int, int]]:
    step = max(-(-(last - first + 1) // parts), 1)
    return [(lo, min(lo + step - 1, last)) for lo in range(first, last + 1, step)]


def verify_file(path: Path, workers: int | None = None) -> tuple[ChainState, list[Finding]]:
    """The walked chain and every finding, the chain's first break first."""
    workers = workers or min(os.cpu_count() or 1, 8)
    conn = connect_readonly(path)
    try:
        last = int(conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)
        first_row, last_row = conn.execute(
            "SELECT MIN(rowid), MAX(rowid) FROM certificates"
        ).fetchone()
    finally:
        conn.close()
    chain = ranges(last, workers)
    certs = _rowid_ranges(first_row or 1, last_row or 0, max(len(chain) // 2, 1))
    if len(chain) == 1:
        state = walk_range(path, *chain[0])
        bad = set().union(*(pem_mismatches(path, lo, hi) for lo, hi in certs))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(chain))) as pool:
            walks = [pool.submit(walk_range, path, lo, hi) for lo, hi in chain]
            pems = [pool.submit(pem_mismatches, path, lo, hi) for lo, hi in certs]
            state = walks[0].result()
            for part in walks[1:]:
                state = state.then(part.result())
            # The PEM checks run last in the pool: compare the records with the replay now,
            # beside them, instead of after them, every PEM taken as good for the moment.
            found = compare_records(state, path, set())
            bad = set().union(*(p.result() for p in pems))
        if not bad:
            return state, found
    # A PEM that does not hold its fingerprinted DER (a tampered database: no time to save):
    # its finding takes its row's place among the others.
    return state, compare_records(state, path, bad)
