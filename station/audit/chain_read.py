"""Walk a range of the event chain straight from the database file, fast.

SQLite writes each event's canonical form itself: ``json_object`` over the hashed columns in
canonical order gives exactly the bytes :mod:`station.audit.chain` defines (compact, keys in
the order given, the same string escapes, non-ASCII kept as UTF-8) for every text, integer and
null value. A probe at connect time holds SQLite to that on the characters that need escaping;
a SQLite that fails it (or has no JSON functions) gets the pure Python walk instead. Python
then only hashes each row's bytes and checks the links. Where SQLite's bytes do not give the
stored hash, the row is read again and hashed by :mod:`station.audit.chain` before it counts as
broken, so a value of another type (a REAL, formatted otherwise by SQLite) is judged by the
definition, never by SQLite; a BLOB, which has no canonical form, makes SQLite stop, and the
range is walked again in Python, which names that row.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from station.audit.chain import GENESIS, SORTED_COLUMNS, values_hash
from station.audit.chain_scan import COLUMNS, ChainState, note_certificate, scan
from station.audit.readonly import connect_readonly

#: An event's canonical form, written by SQLite.
CANONICAL_SQL = "json_object(" + ", ".join(f"'{c}', {c}" for c in SORTED_COLUMNS) + ")"
# Columns: seq, prev_hash, hash, serial, kind, data (only where the replay reads it), the
# canonical bytes (a BLOB: no UTF-8 decoding into a Python str).
_FAST = (
    "SELECT seq, prev_hash, hash, serial, kind, "  # noqa: S608
    "CASE WHEN kind IN ('ISSUED', 'SUPERSEDED') THEN data END, "
    f"CAST({CANONICAL_SQL} AS BLOB) "
    "FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq"
)
_ROW = f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq = ?"  # noqa: S608
_SLOW = f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq"  # noqa: S608

#: Values whose escaping SQLite must agree on with :mod:`json` before it is trusted.
PROBE_VALUES = (
    'quote " backslash \\ slash /',
    "".join(chr(c) for c in range(0x20)) + "\x7f",
    "é ü ß 漢字 \u2028\u2029 \ufeff \U0001f600",
    "",
    0,
    -(2**63),
    2**63 - 1,
    None,
)


def sqlite_writes_canonical(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite's ``json_object`` gives the canonical bytes for the probe values."""
    for value in PROBE_VALUES:
        try:
            row = conn.execute("SELECT CAST(json_object('k', ?) AS BLOB)", (value,)).fetchone()
        except sqlite3.Error:  # no JSON functions in this build
            return False
        expected = '{"k":' + json.dumps(value, ensure_ascii=False) + "}"
        if row[0] != expected.encode("utf-8"):
            return False
    return True


def walk_range(path: Path, lo: int, hi: int) -> ChainState:
    """Events ``lo..hi`` of the database at ``path`` (``lo`` 1: linked to the genesis)."""
    conn = connect_readonly(path)
    try:
        return walk_connection(conn, lo, hi)
    finally:
        conn.close()


def walk_connection(
    conn: sqlite3.Connection, lo: int, hi: int, prev: str | None = None
) -> ChainState:
    """:func:`walk_range` on an open connection; ``prev``: the hash event ``lo`` must link
    to (default: the genesis for event 1, else unchecked, for the merge to check)."""
    prev = prev if prev is not None else GENESIS if lo == 1 else None
    if sqlite_writes_canonical(conn):
        try:
            return _fast(conn, lo, hi, prev)
        except sqlite3.OperationalError:  # a BLOB (no JSON form): Python names the row
            pass
    return scan(conn.execute(_SLOW, (lo, hi)), lo, prev)


def _defined_hash(conn: sqlite3.Connection, seq: int) -> str | None:
    """Event ``seq``'s hash by :mod:`station.audit.chain` (None: it has no canonical form)."""
    try:
        row = conn.execute(_ROW, (seq,)).fetchone()
        return values_hash(row[:-1])
    except (sqlite3.Error, TypeError, ValueError):
        return None


def _fast(conn: sqlite3.Connection, lo: int, hi: int, prev: str | None) -> ChainState:
    rows: Iterator[tuple[Any, ...]] = iter(conn.execute(_FAST, (lo, hi)))
    state = ChainState()
    first = next(rows, None)
    if first is None:
        return state
    state.first_seq, state.first_prev = first[0], first[1]
    link = first[1] if prev is None else prev
    status, fingerprints = state.status, state.sha256
    broken: int | None = None
    expected = lo
    sha256 = hashlib.sha256
    seq, h = 0, GENESIS
    for seq, prev_hash, h, serial, kind, data, canonical in chain((first,), rows):
        if broken is None and (
            seq != expected
            or prev_hash != link
            or (sha256(canonical).hexdigest() != h and _defined_hash(conn, seq) != h)
        ):
            broken = seq
        link, expected = h, expected + 1
        if serial:
            note_certificate(status, fingerprints, serial, kind, data)
    state.broken_at = broken
    state.head_seq, state.head_hash = seq, h
    state.count = expected - lo
    return state
