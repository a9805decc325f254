"""The event hash chain. Pure.

Canonical form of an event (what its ``hash`` covers): a JSON object with exactly the keys
``seq, at, kind, station_id, operator, slot, port, board_uid, serial, code, text, data,
prev_hash`` holding the row's stored values (``data`` is the stored JSON *text*, not the parsed
object; absent values are ``null``), serialised with keys sorted, no whitespace
(``separators=(",", ":")``), non-ASCII characters kept as UTF-8 (``ensure_ascii=False``),
then UTF-8 encoded. ``hash`` = lower-case hex SHA-256 of those bytes. ``prev_hash`` is the
previous event's ``hash``, or :data:`GENESIS` for the first event (seq 1).

``slot`` is the slot's name, a JSON string ("A", "3"). Events recorded before schema version 4
stored the slot number as an integer (and a named slot as null); they keep it, so their hash
covers a JSON number there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

GENESIS = "0" * 64
HASHED_COLUMNS = (
    "seq",
    "at",
    "kind",
    "station_id",
    "operator",
    "slot",
    "port",
    "board_uid",
    "serial",
    "code",
    "text",
    "data",
    "prev_hash",
)


def canonical_data(data: Mapping[str, Any]) -> str:
    """The stored text of an event's ``data`` column: canonical JSON of the mapping.

    NaN and infinities are refused (ValueError): they are not JSON.
    """
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_text(row: Mapping[str, Any]) -> str:
    """The canonical form of an event row (see the module docstring), as text."""
    return _canonical([row.get(column) for column in SORTED_COLUMNS])


def event_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical form of an event row (see the module docstring)."""
    return values_hash([row.get(column) for column in SORTED_COLUMNS])


def values_hash(values: Sequence[Any]) -> str:
    """:func:`event_hash` of the hashed columns' values given in :data:`SORTED_COLUMNS` order
    (the fast path for walking a big chain straight from database tuples)."""
    return hashlib.sha256(_canonical(values).encode("utf-8")).hexdigest()


def reference_event_hash(row: Mapping[str, Any]) -> str:
    """The canonical form spelled out with ``json.dumps``; :func:`event_hash` is the same bytes,
    built faster (a test holds them equal)."""
    content = {column: row.get(column) for column in HASHED_COLUMNS}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(values: Sequence[Any]) -> str:
    return _CANONICAL % tuple(
        [_encode_str(v) if v.__class__ is str else _json_value(v) for v in values]
    )


SORTED_COLUMNS = tuple(sorted(HASHED_COLUMNS))
_CANONICAL = "{" + ",".join(f'"{column}":%s' for column in SORTED_COLUMNS) + "}"
_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return str(_encode_str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def first_broken(rows: Iterable[Mapping[str, Any]]) -> int | None:
    """The seq of the first event whose hash, link or sequence is wrong; None if all hold."""
    prev, expected_seq = GENESIS, 1
    for row in rows:
        if row["seq"] != expected_seq or row["prev_hash"] != prev or event_hash(row) != row["hash"]:
            return int(row["seq"])
        prev, expected_seq = row["hash"], expected_seq + 1
    return None
