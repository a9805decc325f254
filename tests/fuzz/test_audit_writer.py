"""Hostile values straight into the audit writer.

Property: :meth:`AuditDB.record_event` either stores the event, which then reads back exactly
as given while the hash chain and the certificate replay still verify, or raises an
:class:`AuditError` and writes nothing. Never a raw sqlite3, Unicode, type or recursion error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.audit import AuditDB, AuditError, EventContext, NewEvent
from station.audit.storable import MAX_DATA_DEPTH
from station.audit.verify import check

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "'); DROP TABLE events;--",
    "\u202egnp.exe",
    "line\nbreak\r\n",
    "\x1b[31mred\x1b[0m",
    "\ufeff\u200b",
    "\U0001f4a9" * 40,
    "\ud800",  # lone surrogates: not valid Unicode, cannot be UTF-8 encoded
    "ok\udcff",
    "x" * 1_000_000,
]
#: Any code point, surrogates included.
any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=60),
    st.sampled_from(HOSTILE_TEXT),
)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    any_text,
)
non_json = st.one_of(
    st.just(float("nan")),
    st.just(float("inf")),
    st.binary(max_size=8),
    st.just(5000).map(lambda digits: 10**digits),  # too long for a decimal string
    st.just({1, 2}),
    st.just(object()),
    st.just(datetime(2025, 1, 1, tzinfo=UTC)),
)
data_value = st.recursive(
    st.one_of(json_scalar, non_json),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(any_text, inner, max_size=4),
        st.dictionaries(st.one_of(st.integers(), st.booleans(), st.none()), inner, max_size=2),
    ),
    max_leaves=10,
)


def deep(depth: int, leaf: Any = "bottom", *, as_list: bool = False) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if as_list else {"k": value}
    return value


event_data = st.one_of(
    st.dictionaries(any_text, data_value, max_size=5),
    st.builds(
        lambda d, as_list: {"deep": deep(d, as_list=as_list)},
        st.sampled_from([MAX_DATA_DEPTH - 2, MAX_DATA_DEPTH - 1, MAX_DATA_DEPTH, 5000]),
        st.booleans(),
    ),
    st.just([("not", "a mapping")]),
)
maybe_text = st.one_of(st.none(), any_text, st.binary(max_size=4), st.integers())
events = st.builds(
    NewEvent,
    kind=st.one_of(st.sampled_from(["FAILED", "STARTED", "X"]), maybe_text),
    board_uid=maybe_text,
    serial=maybe_text,
    code=maybe_text,
    text=maybe_text,
    data=event_data,
)
contexts = st.builds(
    EventContext,
    station_id=st.one_of(st.just("line-7"), any_text),
    operator=st.one_of(st.none(), any_text),
    slot=st.one_of(st.none(), st.sampled_from(["A", "3"]), any_text, st.integers(), st.just(True)),
    port=st.one_of(st.none(), st.just("/dev/pts/3"), any_text),
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditDB]:
    path: Path = tmp_path_factory.mktemp("audit-fuzz") / "audit.db"
    with AuditDB.open(path) as db:
        yield db


def plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is JSON the audit writer must accept (see station.audit.storable)."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 10**4000
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list | tuple):
        return depth < MAX_DATA_DEPTH and all(plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return depth < MAX_DATA_DEPTH and all(
            isinstance(k, str) and valid_text(k) and plain(v, depth + 1) for k, v in value.items()
        )
    return False


def valid_text(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(event: NewEvent, ctx: EventContext) -> bool:
    texts_ok = all(
        value is None or valid_text(value)
        for value in (
            event.board_uid,
            event.serial,
            event.code,
            event.text,
            ctx.operator,
            ctx.slot,
            ctx.port,
        )
    )
    return (
        texts_ok
        and valid_text(event.kind)
        and bool(event.kind)
        and valid_text(ctx.station_id)
        and bool(ctx.station_id)
        and isinstance(event.data, Mapping)
        and plain(event.data)
    )


def as_json(value: Any) -> Any:
    """What JSON gives back for ``value`` (tuples become lists)."""
    if isinstance(value, tuple | list):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def chain_holds(audit: AuditDB) -> None:
    assert audit.first_broken_event() is None
    assert check(list(audit.events()), audit.all_certificates()) == []


def refused(audit: AuditDB, e: AuditError, event: NewEvent, ctx: EventContext, before: int) -> None:
    assert str(e).strip()
    assert not storable(event, ctx), f"refused a storable event: {e}"
    assert sum(1 for _ in audit.events()) == before, "a refused event left a row behind"
    chain_holds(audit)


# 200 durable commits to a real file, each checked against the whole chain: seconds of CPU, so
# this runs with the component tests.
@pytest.mark.component
@FUZZ
@given(event=events, ctx=contexts, at=moments)
def test_record_event_stores_faithfully_or_raises_audit_error(
    audit: AuditDB, event: NewEvent, ctx: EventContext, at: datetime
) -> None:
    before = sum(1 for _ in audit.events())
    try:
        seq = audit.record_event(event, ctx, at)
    except AuditError as e:
        refused(audit, e, event, ctx, before)
        return
    assert storable(event, ctx), "stored an event that cannot read back as given"
    assert seq == before + 1
    row = next(r for r in audit.events() if r["seq"] == seq)
    for column in ("kind", "board_uid", "serial", "code", "text"):
        assert row[column] == getattr(event, column), column
    for column in ("station_id", "operator", "slot", "port"):
        assert row[column] == getattr(ctx, column), column
    assert json.loads(row["data"]) == as_json(event.data)
    chain_holds(audit)


HAND_MADE = {
    "fail/lone-surrogate-text": (NewEvent("X", text="\ud800"), EventContext("line-7")),
    "fail/surrogate-escaped-byte-in-data": (
        NewEvent("X", data={"fw": "1.0\udcff"}),
        EventContext("line-7"),
    ),
    "fail/surrogate-key": (NewEvent("X", data={"\udc80": 1}), EventContext("line-7")),
    "fail/nan": (NewEvent("X", data={"v": float("nan")}), EventContext("line-7")),
    "fail/bytes-in-data": (NewEvent("X", data={"v": b"\x00"}), EventContext("line-7")),
    "fail/bytes-as-text": (NewEvent("X", text=b"x"), EventContext("line-7")),  # type: ignore[arg-type]
    "fail/int-key": (NewEvent("X", data={1: "x"}), EventContext("line-7")),
    "fail/mixed-keys": (NewEvent("X", data={1: "x", "a": "y"}), EventContext("line-7")),
    "fail/5000-digit-int": (NewEvent("X", data={"v": 10**5000}), EventContext("line-7")),
    "fail/5000-levels": (NewEvent("X", data=deep(5000)), EventContext("line-7")),
    "fail/slot-number": (NewEvent("X"), EventContext("line-7", slot=3)),  # type: ignore[arg-type]
    "fail/kind-none": (NewEvent(None), EventContext("line-7")),  # type: ignore[arg-type]
    "fail/station-empty": (NewEvent("X"), EventContext("")),
    "ok/nul-and-sql": (
        NewEvent("X", "a\x00b", text="'); DROP TABLE events;--", data={"\x00": "\u202e"}),
        EventContext("line-7", operator="\x1b[2J", port="COM\x00"),
    ),
    "ok/megabyte-text": (NewEvent("X", text="\U0001f4a9" * 250_000), EventContext("line-7")),
}


@pytest.mark.parametrize(("event", "ctx"), HAND_MADE.values(), ids=HAND_MADE.keys())
def test_hand_made_events(
    request: pytest.FixtureRequest, audit: AuditDB, event: NewEvent, ctx: EventContext
) -> None:
    before = sum(1 for _ in audit.events())
    at = datetime.now(UTC)
    if "[fail/" in request.node.name:
        with pytest.raises(AuditError):
            audit.record_event(event, ctx, at)
        assert sum(1 for _ in audit.events()) == before
    else:
        seq = audit.record_event(event, ctx, at)
        row = next(r for r in audit.events() if r["seq"] == seq)
        assert (row["board_uid"], row["text"]) == (event.board_uid, event.text)
    chain_holds(audit)
