"""Hostile HELLO values: the message layer, then a real cycle on a pty with the audit database.

Property: whatever a board reports about itself, ``Cycle.run()`` returns a CycleResult (a pass,
or a classified failure whose message is one printable line), nothing escapes, the audit
database still verifies, and what it stored reads back as the board said it (model and
firmware cut to 64 characters, as SPEC.md 7.1 says). A board whose id breaks the wire rules
never gets a certificate. ``HelloInfo.from_fields`` and ``decode_request`` raise nothing but
our own errors for any field dict.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable, Mapping

from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from device_protocol import messages as m
from device_protocol.framing import DEFAULT_MAX_LINE, Frame
from fixtures.board import BoardServer, Faults
from fixtures.board.hostile import encode_lenient
from station.audit import CertificateStatus
from station.audit.verify import check
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult, FailureKind, Step
from station.engine.station import StationContext

MakeBoard = Callable[..., BoardServer]

HOSTILE_TEXT = [
    "",
    "\x00",
    "nul\x00inside",
    "'); DROP TABLE events;--",
    "\u202eexe.txt",
    "two\nlines\r\n",
    "\x1b[2J\x1b[31m",
    "\t\x07\x08\x7f",
    "\ufeff\u200b\u2028",
    "\U0001f4a9",
    "Wägen ~100%*",
    "a=b c",
    "\udcff\udcfe",  # bytes 0xFF 0xFE on the wire: not UTF-8
    "ok\udcc3",  # a cut UTF-8 sequence
    "\ud800",  # an encoded surrogate (ED A0 80): not UTF-8 either
]
UID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
_UID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
_PRINTABLE_UID = re.compile(r"[A-Za-z0-9.:-]{1,64}\Z")  # and PrintableString for the subject

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.text(max_size=300),
)
long_text = st.sampled_from([70, 400, 1200, 5000]).flatmap(
    lambda n: st.sampled_from(["m", "é", "\u202e", "\x00"]).map(lambda c: c * n)
)
uids = st.one_of(
    st.text(UID_CHARS, min_size=1, max_size=64),  # valid on the wire
    st.text(UID_CHARS, min_size=65, max_size=300),  # too long
    st.sampled_from(HOSTILE_TEXT),
    hostile_text,
)
key_lists = st.one_of(
    st.lists(st.sampled_from([k.value for k in m.KeyType]), min_size=1, max_size=3).map(",".join),
    hostile_text,
    st.lists(hostile_text, max_size=3).map(",".join),
)
numbers = st.one_of(
    st.sampled_from(["0", "1", "2", "128", "65536", "999", "1000", "-1", "99999999999", "1e3"]),
    st.sampled_from(["\u0661", "²", " 1", "0x80"]),
    hostile_text,
)
FIELDS: dict[str, st.SearchStrategy[str]] = {
    "uid": uids,
    "model": st.one_of(hostile_text, long_text),
    "fw": st.one_of(hostile_text, long_text),
    "keys": key_lists,
    "state": st.one_of(st.sampled_from([s.value for s in m.BoardState]), hostile_text),
    "mtu": numbers,
    "v": numbers,
    "kt": st.one_of(st.sampled_from(["ec-p256", "rsa-1024"]), hostile_text),
    "extra": hostile_text,  # a field SPEC.md does not define: to be ignored
}
overrides = st.one_of(
    # free text only: the board must still be provisioned
    st.fixed_dictionaries({}, optional={k: FIELDS[k] for k in ("model", "fw", "extra")}),
    # one field at a time, so each rule is reached on its own
    st.sampled_from(sorted(FIELDS)).flatmap(lambda k: FIELDS[k].map(lambda v: {k: v})),
    st.fixed_dictionaries({}, optional=FIELDS),
)


# ---- the message layer -----------------------------------------------------------------------

any_fields = st.dictionaries(
    st.one_of(
        st.sampled_from(
            ["v", "model", "uid", "fw", "keys", "state", "mtu", "kt", "total", "sha", "off"]
        ),
        st.text(max_size=8),
    ),
    st.one_of(hostile_text, numbers, uids),
    max_size=10,
)
_RESPONSES: tuple[type[m._Response], ...] = (
    m.HelloInfo,
    m.KeyInfo,
    m.ObjectInfo,
    m.Chunk,
    m.Accepted,
    m.StateInfo,
    m.Progress,
    m.Failure,
)


@settings(max_examples=400, deadline=None)
@given(
    fields=any_fields,
    name=st.one_of(
        st.sampled_from(["HELLO", "PUT_CERT", "READ", "SIGN", "KEYGEN", "GET_CSR", "LOCK"]),
        st.text(max_size=10),
    ),
)
def test_messages_parse_any_fields_or_raise_our_errors(fields: dict[str, str], name: str) -> None:
    for response in _RESPONSES:
        with contextlib.suppress(m.FieldError):
            check_parsed(response.from_fields(fields))
    with contextlib.suppress(m.FieldError, m.UnknownRequest):
        m.decode_request(name, fields)


def check_parsed(parsed: object) -> None:
    if isinstance(parsed, m.HelloInfo):
        assert _UID_RE.match(parsed.uid)
        assert len(parsed.model) <= 64
        assert len(parsed.firmware) <= 64
        assert 1 <= parsed.version <= 999
        assert m.MIN_MTU <= parsed.mtu <= 65536


# ---- a real cycle ----------------------------------------------------------------------------


def hello_fields(board: BoardServer) -> dict[str, str]:
    return board.device.hello_info().to_fields() | board.identity.hello_overrides


def expected_to_pass(fields: Mapping[str, str], overridden: Mapping[str, str]) -> bool:
    """Only model, fw and an unknown field changed, as valid UTF-8, in a frame of legal size:
    such a board must provision like any other."""
    if set(overridden) - {"model", "fw", "extra"}:
        return False
    try:
        for value in overridden.values():
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    wire = encode_lenient(Frame(seq=1, name=m.OK, fields=fields))
    return len(wire) <= DEFAULT_MAX_LINE


def assert_one_printable_line(text: str) -> None:
    assert text.strip(), "empty message"
    assert text.isprintable(), f"message holds unprintable characters: {text!r}"


def assert_audit_intact(station: StationContext) -> None:
    audit = station.audit
    assert audit.first_broken_event() is None
    assert check(list(audit.events()), audit.all_certificates()) == []


def cut(value: str) -> str:
    return value[:64]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(overridden=overrides)
@example(overridden={"uid": "'); DROP TABLE events;--"})
@example(overridden={"model": "'); DROP TABLE events;--", "fw": "\u202e\x00" * 40})
@example(overridden={"uid": "X" * 65})
@example(overridden={"fw": "1.0\udcff"})
@example(overridden={"keys": "rsa-1024,\x1b[2J\ncontrol"})
@example(overridden={"v": "2"})
@example(overridden={"model": "m" * 5000})
def test_cycle_survives_hostile_hello(
    station: StationContext, make_board: MakeBoard, overridden: dict[str, str]
) -> None:
    board = make_board(
        Faults(boot_chatter=False), key_types=("ec-p256",), hello_overrides=overridden
    )
    fields = hello_fields(board)
    before = max((e["seq"] for e in station.audit.events()), default=0)
    try:
        result = Cycle(station, "1", board.url, CycleOptions(operator="op-1")).run()
    finally:
        board.stop()
    assert isinstance(result, CycleResult)
    event(result.failure.code if result.failure else "passed")
    new = [e for e in station.audit.events() if e["seq"] > before]
    assert_audit_intact(station)

    uid = overridden.get("uid", board.identity.uid)
    if result.failure is None:
        assert _PRINTABLE_UID.match(uid), f"a certificate for the ill-formed id {uid!r}"
        assert fields.get("v") == "1", "passed with a version the station never offered"
        assert result.board_uid == uid
        cert = station.audit.certificate(result.serial or "")
        assert cert is not None
        assert (cert.status, cert.board_uid) == (CertificateStatus.LOCKED, uid)
        subject = x509.load_pem_x509_certificate(cert.pem.encode()).subject
        assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == uid
        issued = next(e for e in new if e["kind"] == "ISSUED")
        data = json.loads(issued["data"])
        reported = (cut(fields["model"]), cut(fields["fw"]))
        assert (data["model"], data["firmware"]) == reported
        with contextlib.closing(sqlite3.connect(station.audit.path)) as db:
            row = db.execute("SELECT model, firmware FROM boards WHERE uid = ?", (uid,)).fetchone()
        assert tuple(row) == reported
    else:
        failure = result.failure
        assert expected_to_pass(fields, overridden) is False, f"should have passed: {failure}"
        assert isinstance(failure.kind, FailureKind)
        assert isinstance(failure.step, Step)
        assert re.fullmatch(r"[a-z][a-z_-]*\.[A-Za-z0-9_.-]+", failure.code), failure.code
        assert_one_printable_line(failure.message)
        failed = [e for e in new if e["kind"] == "FAILED"]
        assert len(failed) == 1
        assert (failed[0]["code"], failed[0]["text"]) == (failure.code, failure.message)
        if not _UID_RE.match(uid):
            assert failure.step is Step.HELLO
            assert failure.kind in (FailureKind.PROTOCOL, FailureKind.NOT_RESPONDING)
            assert failed[0]["board_uid"] is None
    started = [e for e in new if e["kind"] == "STARTED"]
    if started:
        assert started[0]["board_uid"] == uid
        assert json.loads(started[0]["data"])["firmware"] == cut(fields["fw"])
