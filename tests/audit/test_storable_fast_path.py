"""check_storable's fast path for plain ASCII events gives the full check's verdict and words.

Pure: hostile events (the audit-writer fuzz's strategies) and events shaped like a cycle's, each
checked both ways.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from station.audit import EventContext, NewEvent
from station.audit.errors import UnstorableEvent
from station.audit.storable import MAX_DATA_DEPTH, check_fully, check_storable
from tests.fuzz.test_audit_writer import contexts, deep, events

ascii_text = st.text(st.characters(max_codepoint=127), max_size=20)
cycle_data = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), ascii_text, st.sampled_from(["é", "\ud800"])
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(ascii_text, inner, max_size=3),
    ),
    max_leaves=8,
)
cycle_events = st.builds(
    NewEvent,
    kind=st.sampled_from(["STARTED", "ISSUED", "DELIVERED", "LOCKED", ""]),
    board_uid=st.one_of(st.none(), ascii_text),
    serial=st.one_of(st.none(), st.sampled_from(["1f2e3d", "é"])),
    text=st.one_of(st.none(), ascii_text),
    data=st.one_of(
        st.dictionaries(ascii_text, cycle_data, max_size=4),
        st.builds(
            lambda d, as_list: {"deep": deep(d, as_list=as_list)},
            st.integers(MAX_DATA_DEPTH - 2, MAX_DATA_DEPTH + 1),
            st.booleans(),
        ),
    ),
)
cycle_contexts = st.builds(
    EventContext,
    station_id=st.sampled_from(["bench-1", ""]),
    operator=st.one_of(st.none(), ascii_text),
    slot=st.one_of(st.none(), st.sampled_from(["1", "A"])),
    port=st.one_of(st.none(), st.just("/dev/pts/3")),
)


def verdict(check: object, event: NewEvent, ctx: EventContext) -> str | None:
    try:
        check(event, ctx)  # type: ignore[operator]
    except UnstorableEvent as e:
        return str(e)
    return None


@settings(max_examples=500, deadline=None)  # a pure test stays well under 5 s of CPU
@given(st.one_of(events, cycle_events), st.one_of(contexts, cycle_contexts))
def test_the_fast_path_gives_the_full_checks_verdict(event: NewEvent, ctx: EventContext) -> None:
    assert verdict(check_storable, event, ctx) == verdict(check_fully, event, ctx)


def test_a_cycles_events_take_the_fast_path_and_hostile_ones_do_not() -> None:
    ctx = EventContext("bench-1", "OP1", "1", "/dev/pts/3")
    assert verdict(check_storable, NewEvent("ISSUED", "B-1", "0a", data={"pem": "x"}), ctx) is None
    bad = NewEvent("ISSUED", "B-1", "0a", data={"deep": deep(MAX_DATA_DEPTH)})
    assert verdict(check_storable, bad, ctx) == verdict(check_fully, bad, ctx) is not None
