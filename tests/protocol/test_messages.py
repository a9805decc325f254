"""Typed messages (SPEC.md sections 5-7): round trips, board-side decoding, and the spec's examples.

Every request and response goes through the wire and back; decode_request turns anything a
station could send into a typed request, UnknownRequest (answer UNSUPPORTED) or FieldError
(answer BAD_REQUEST), and nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_protocol import framing
from device_protocol.framing import Frame, encode, parse_line
from device_protocol.limits import worst_case_hello
from device_protocol.messages import (
    BUSY,
    ERR,
    MAX_OBJECT,
    MIN_MTU,
    NAK,
    OK,
    Accepted,
    BoardState,
    Chunk,
    Failure,
    FieldError,
    GetCert,
    GetCsr,
    Hello,
    HelloInfo,
    Keygen,
    KeyInfo,
    KeyType,
    Lock,
    ObjectInfo,
    ObjectKind,
    Progress,
    PutCertBegin,
    PutCertChunk,
    Read,
    Request,
    Sign,
    StateInfo,
    Status,
    UnknownRequest,
    decode_request,
    status_name,
)

SPEC = Path(framing.__file__).with_name("SPEC.md")
FAST = settings(max_examples=200, deadline=None)

TEXT = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from("%*~ =,\r\n")), max_size=64
)
KEY_TYPES = st.sampled_from([k.value for k in KeyType])
SHA = st.binary(min_size=32, max_size=32)
OFFSETS = st.integers(0, MAX_OBJECT)
UIDS = st.text(string.ascii_letters + string.digits + "._:-", min_size=1, max_size=64)


def over_the_wire(name: str, fields: Mapping[str, str]) -> dict[str, str]:
    """``fields`` as the other side sees them: encoded into a frame, decoded back."""
    (frame,) = parse_line(encode(Frame(seq=4711, name=name, fields=fields))[:-1])
    assert isinstance(frame, Frame)
    assert frame.name == name
    return dict(frame.fields)


# ---- responses --------------------------------------------------------------------------------

RESPONSES = st.one_of(
    st.builds(
        HelloInfo,
        version=st.integers(1, 999),
        model=TEXT,
        uid=UIDS,
        firmware=TEXT,
        key_types=st.lists(
            st.one_of(KEY_TYPES, st.text(string.ascii_lowercase + "-0123456789", min_size=1)),
            max_size=6,
        ).map(tuple),
        state=st.sampled_from(BoardState),
        mtu=st.integers(MIN_MTU, 65536),
        key_type=st.none() | KEY_TYPES,
        caps=st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True), max_size=4).map(
            tuple
        ),
    ),
    st.builds(KeyInfo, KEY_TYPES),
    st.builds(
        ObjectInfo,
        total=st.integers(1, MAX_OBJECT),
        sha256=SHA,
        alg=st.none() | st.sampled_from(["ecdsa-sha256", "rsa-pkcs1-sha256"]),
    ).flatmap(
        lambda info: st.builds(
            lambda data: ObjectInfo(info.total, info.sha256, info.alg, data),
            st.none() | st.binary(min_size=1, max_size=min(info.total, 200)),
        )
    ),
    st.builds(Chunk, off=OFFSETS, data=st.binary(max_size=200)),
    st.builds(Accepted, next=OFFSETS, done=st.booleans()),
    st.builds(StateInfo, st.sampled_from(BoardState)),
    st.builds(Progress, pct=st.none() | st.integers(0, 100), text=TEXT),
    st.builds(Failure, status=st.integers(0, 9999), text=TEXT),
)


@FAST
@given(response=RESPONSES)
def test_every_response_round_trips(response: Any) -> None:
    fields = response.to_fields()
    assert type(response).from_fields(fields) == response
    assert type(response).from_fields(over_the_wire(OK, fields)) == response


# ---- requests ---------------------------------------------------------------------------------

REQUESTS = st.one_of(
    st.builds(Hello, st.integers(1, 999)),
    st.builds(Keygen, st.one_of(KEY_TYPES, TEXT.map(lambda t: t[:32]))),
    st.builds(GetCsr, TEXT),
    st.just(GetCert()),
    st.builds(Sign, st.binary(min_size=16, max_size=64)),
    st.builds(Read, st.sampled_from([k.value for k in ObjectKind]), OFFSETS),
    st.builds(PutCertBegin, st.integers(1, MAX_OBJECT), SHA),
    st.builds(PutCertChunk, OFFSETS, st.binary(min_size=1, max_size=200)),
    st.builds(
        PutCertChunk,
        OFFSETS,
        st.binary(min_size=1, max_size=200).map(lambda b: bytes(c & 0x7F for c in b)),
        st.just(True),
    ),
    st.just(Lock()),
)


@FAST
@given(request=REQUESTS)
def test_every_request_round_trips_through_decode_request(request: Any) -> None:
    fields = over_the_wire(request.NAME, request.to_fields())
    decoded = decode_request(request.NAME, fields)
    assert type(decoded) is type(request)
    assert decoded == request


@FAST
@given(request=REQUESTS, extra=st.dictionaries(st.sampled_from(["zz", "future", "x9"]), TEXT))
def test_unknown_fields_are_ignored(request: Any, extra: dict[str, str]) -> None:
    assert decode_request(request.NAME, {**request.to_fields(), **extra}) == request


_FIELD_KEYS = ["v", "kt", "cn", "ch", "obj", "off", "total", "sha", "data", "zz"]
_NUMBERISH = st.sampled_from(
    ["0", "1", "65536", "65537", "-1", "007", "1e3", " 1", "\u00b2", "\u0663"]
)
_FIELD_VALUES = st.one_of(
    TEXT, _NUMBERISH, st.binary(max_size=70).map(base64.b64encode).map(bytes.decode)
)


@settings(max_examples=400, deadline=None)
@given(
    name=st.one_of(
        st.sampled_from(
            [
                "HELLO",
                "KEYGEN",
                "GET_CSR",
                "GET_CERT",
                "SIGN",
                "READ",
                "PUT_CERT",
                "LOCK",
                "OK",
                "REBOOT",
            ]
        ),
        TEXT,
    ),
    fields=st.dictionaries(st.sampled_from(_FIELD_KEYS), _FIELD_VALUES, max_size=5),
)
def test_decode_request_raises_only_documented_errors(name: str, fields: dict[str, str]) -> None:
    try:
        request = decode_request(name, fields)
    except (FieldError, UnknownRequest):
        return
    assert name == request.NAME


@FAST
@given(
    kind=st.sampled_from(
        [HelloInfo, KeyInfo, ObjectInfo, Chunk, Accepted, StateInfo, Progress, Failure]
    ),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "v",
                "model",
                "uid",
                "fw",
                "keys",
                "state",
                "mtu",
                "kt",
                "total",
                "sha",
                "alg",
                "off",
                "data",
                "next",
                "done",
                "pct",
                "msg",
                "code",
            ]
        ),
        _FIELD_VALUES,
    ),
)
def test_response_parsing_raises_only_field_errors(kind: Any, fields: dict[str, str]) -> None:
    """The station turns FieldError into a ProtocolError; anything else would be a traceback."""
    with contextlib.suppress(FieldError):
        kind.from_fields(fields)


@pytest.mark.parametrize("name", ["REBOOT", "OK", "ERR", "BUSY", "hello", "PUT_CERTS", ""])
def test_decode_request_rejects_unknown_names(name: str) -> None:
    with pytest.raises(UnknownRequest) as info:
        decode_request(name, {"v": "1"})
    assert str(info.value) == name


_SHA = "ab" * 32
_B64_15 = base64.b64encode(b"x" * 15).decode()
_B64_65 = base64.b64encode(b"x" * 65).decode()


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        pytest.param("HELLO", {}, "missing field 'v'", id="fail/hello-missing-v"),
        pytest.param("HELLO", {"v": "0"}, "field 'v'=0 outside 1..999", id="fail/hello-v-0"),
        pytest.param("HELLO", {"v": "1000"}, "field 'v'=1000 outside 1..999", id="fail/v-big"),
        pytest.param("HELLO", {"v": "one"}, "field 'v' is not a decimal integer", id="fail/v"),
        pytest.param("HELLO", {"v": "-1"}, "field 'v' is not a decimal integer", id="fail/neg"),
        pytest.param("HELLO", {"v": "\u00b2"}, "field 'v' is not a decimal", id="fail/superscript"),
        pytest.param("HELLO", {"v": "\u0663"}, "field 'v' is not a decimal", id="fail/arabic-3"),
        pytest.param("KEYGEN", {}, "missing field 'kt'", id="fail/keygen-missing-kt"),
        pytest.param("SIGN", {}, "missing field 'ch'", id="fail/sign-missing-ch"),
        pytest.param("SIGN", {"ch": _B64_15}, "challenge must be 16..64 bytes", id="fail/ch-15"),
        pytest.param("SIGN", {"ch": _B64_65}, "challenge must be 16..64 bytes", id="fail/ch-65"),
        pytest.param("SIGN", {"ch": "not base64!"}, "field 'ch' is not valid base64", id="fail/ch"),
        pytest.param("SIGN", {"ch": "AAA"}, "field 'ch' is not valid base64", id="fail/ch-pad"),
        pytest.param(
            "SIGN", {"ch": "\u00e9" * 24}, "field 'ch' is not valid base64", id="fail/ch-u"
        ),
        pytest.param("READ", {"off": "0"}, "missing field 'obj'", id="fail/read-missing-obj"),
        pytest.param(
            "READ",
            {"obj": "key", "off": "0"},
            "field 'obj'='key' is not one of cert, csr, sig",
            id="fail/read-obj",
        ),
        pytest.param("READ", {"obj": "csr"}, "missing field 'off'", id="fail/read-missing-off"),
        pytest.param(
            "READ",
            {"obj": "csr", "off": "65537"},
            "field 'off'=65537 outside 0..65536",
            id="fail/off",
        ),
        pytest.param(
            "READ",
            {"obj": "csr", "off": "1" * 11},
            "field 'off' is not a decimal",
            id="fail/off-11",
        ),
        pytest.param(
            "PUT_CERT",
            {"total": "0", "sha": _SHA},
            "field 'total'=0 outside 1..65536",
            id="fail/put-total-0",
        ),
        pytest.param(
            "PUT_CERT",
            {"total": "65537", "sha": _SHA},
            "field 'total'=65537 outside 1..65536",
            id="fail/put-total-big",
        ),
        pytest.param("PUT_CERT", {"total": "5"}, "missing field 'sha'", id="fail/put-no-sha"),
        pytest.param(
            "PUT_CERT",
            {"total": "5", "sha": _SHA.upper()},
            "field 'sha' is not 64 lowercase hex digits",
            id="fail/put-sha-upper",
        ),
        pytest.param(
            "PUT_CERT",
            {"total": "5", "sha": _SHA[:-2]},
            "field 'sha' is not 64 lowercase hex digits",
            id="fail/put-sha-short",
        ),
        pytest.param("PUT_CERT", {}, "missing field 'off'", id="fail/put-empty"),
        pytest.param("PUT_CERT", {"off": "0"}, "missing field 'data'", id="fail/put-no-data"),
        pytest.param(
            "PUT_CERT", {"off": "3", "data": ""}, "field 'data' is empty", id="fail/put-empty"
        ),
        pytest.param(
            "PUT_CERT", {"off": "3", "text": ""}, "field 'text' is empty", id="fail/text-empty"
        ),
        pytest.param(
            "PUT_CERT",
            {"off": "0", "data": "QUJD", "text": "ABC"},
            "a chunk carries 'data' or 'text', not both",
            id="fail/data-and-text",
        ),
        pytest.param(
            "PUT_CERT",
            {"off": "0", "data": "@@@@"},
            "field 'data' is not valid base64",
            id="fail/d",
        ),
    ],
)
def test_decode_request_rejects_bad_fields(name: str, fields: dict[str, str], message: str) -> None:
    with pytest.raises(FieldError, match=re.escape(message)):
        decode_request(name, fields)


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        pytest.param("HELLO", {"v": "007"}, Hello(7), id="ok/leading-zeros"),
        pytest.param("KEYGEN", {"kt": "rsa-1024"}, Keygen("rsa-1024"), id="ok/unknown-kt"),
        pytest.param("GET_CSR", {}, GetCsr(), id="ok/csr-no-hint"),
        pytest.param("GET_CSR", {"cn": "x" * 80}, GetCsr("x" * 64), id="ok/csr-hint-cut"),
        pytest.param(
            "SIGN", {"ch": base64.b64encode(b"c" * 16).decode()}, Sign(b"c" * 16), id="ok/16"
        ),
        pytest.param(
            "PUT_CERT",
            {"total": "5", "sha": _SHA, "off": "3", "data": "AAAA"},
            PutCertBegin(5, bytes.fromhex(_SHA)),
            id="ok/put-with-total-is-begin",
        ),
        pytest.param(
            "PUT_CERT",
            {"off": "3", "text": "-----BEGIN\n"},
            PutCertChunk(3, b"-----BEGIN\n", text=True),
            id="ok/put-text",
        ),
    ],
)
def test_decode_request_ok(name: str, fields: dict[str, str], expected: object) -> None:
    assert decode_request(name, fields) == expected


def test_keygen_leaves_unknown_key_types_to_the_board() -> None:
    """An unknown kt is UNSUPPORTED_KEY (the board's answer), not BAD_REQUEST (a field error)."""
    assert decode_request("KEYGEN", {"kt": "ed25519"}) == Keygen("ed25519")


_HELLO = HelloInfo(1, "WX-200", "3C71BF4A92D0", "1.4.2", ("ec-p256",), BoardState.BLANK, 128)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"uid": ""}, "is not 1-64 of A-Z a-z 0-9 . _ : -", id="fail/uid-empty"),
        pytest.param({"uid": "a b"}, "is not 1-64 of A-Z a-z 0-9 . _ : -", id="fail/uid-space"),
        pytest.param({"uid": "u" * 65}, "is not 1-64 of", id="fail/uid-long"),
        pytest.param({"mtu": "127"}, "field 'mtu'=127 outside 128..65536", id="fail/mtu-small"),
        pytest.param({"state": "fresh"}, "field 'state'='fresh' is not one of", id="fail/state"),
        pytest.param({"kt": "ed25519"}, "field 'kt'='ed25519' is not a known key", id="fail/kt"),
        pytest.param({"v": "0"}, "field 'v'=0 outside 1..999", id="fail/v"),
        pytest.param({"caps": ""}, "field 'caps'='': an empty name is not", id="fail/caps-empty"),
        pytest.param({"caps": "text,"}, "an empty name is not a capability", id="fail/caps-item"),
        pytest.param({"caps": "Text"}, "'Text' is not a capability name", id="fail/caps-upper"),
        pytest.param({"caps": "text bin"}, "'text bin' is not a capability", id="fail/caps-sp"),
        pytest.param({"caps": "1x"}, "'1x' is not a capability name", id="fail/caps-digit"),
    ],
)
def test_hello_answer_rejects_bad_fields(change: dict[str, str], message: str) -> None:
    with pytest.raises(FieldError, match=re.escape(message)):
        HelloInfo.from_fields({**_HELLO.to_fields(), **change})


def test_hello_answer_keeps_unknown_key_types_and_cuts_long_texts() -> None:
    fields = {**_HELLO.to_fields(), "keys": "ec-p256,,ed448", "model": "m" * 70, "future": "1"}
    info = HelloInfo.from_fields(fields)
    assert info.key_types == ("ec-p256", "ed448")
    assert info.model == "m" * 64


def test_hello_answer_keeps_capabilities_it_does_not_know() -> None:
    info = HelloInfo.from_fields({**_HELLO.to_fields(), "caps": "zip-7,text"})
    assert info.caps == ("zip-7", "text")
    assert HelloInfo.from_fields(_HELLO.to_fields()).caps == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param("", "field 'data' is empty", id="fail/inline-empty"),
        pytest.param(
            base64.b64encode(b"x" * 71).decode(), "71 bytes, more than total=70", id="fail/long"
        ),
        pytest.param("@@@@", "field 'data' is not valid base64", id="fail/inline-b64"),
    ],
)
def test_object_answer_rejects_bad_inline_data(data: str, message: str) -> None:
    fields = {"total": "70", "sha": _SHA, "alg": "ecdsa-sha256", "data": data}
    with pytest.raises(FieldError, match=re.escape(message)):
        ObjectInfo.from_fields(fields)


def test_object_answer_takes_inline_data_up_to_total() -> None:
    fields = {"total": "3", "sha": _SHA, "data": base64.b64encode(b"abc").decode()}
    assert ObjectInfo.from_fields(fields).data == b"abc"
    assert ObjectInfo.from_fields({"total": "3", "sha": _SHA}).data is None


@pytest.mark.parametrize("pct", ["", "abc", "1000", "-5", "\u00b2", "\u0663"])
def test_busy_with_a_bad_pct_is_still_a_keep_alive(pct: str) -> None:
    assert Progress.from_fields({"pct": pct, "msg": "x"}) == Progress(None, "x")


def test_parse_response_uses_the_request_response_type() -> None:
    sha = hashlib.sha256(b"chain").digest()
    info = Sign(b"c" * 16).parse_response({"total": "70", "sha": sha.hex(), "alg": "ecdsa-sha256"})
    assert info == ObjectInfo(70, sha, "ecdsa-sha256")
    assert Lock().parse_response({"state": "locked"}) == StateInfo(BoardState.LOCKED)
    assert PutCertChunk(0, b"x").parse_response({"next": "1", "done": "1"}) == Accepted(1, True)


def test_status_names() -> None:
    assert status_name(5) == "LOCKED"
    assert status_name(99) == "STATUS_99"


# ---- SPEC.md cannot drift from the code -------------------------------------------------------


def test_spec_states_this_protocol_version() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert f"**Protocol version {framing.VERSION}**" in text
    assert re.search(rf"`mtu` MUST be at least\s+{MIN_MTU}\b", text)


def test_spec_status_table_matches_status_enum() -> None:
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*([A-Z_]+)\s*\|", SPEC.read_text(encoding="utf-8"), re.M)
    assert {int(code): name for code, name in rows} == {s.value: s.name for s in Status}


def _spec_frames() -> list[tuple[str, bool, Frame]]:
    """(direction, damaged, frame) for every example frame line in SPEC.md, in document order."""
    out: list[tuple[str, bool, Frame]] = []
    in_block = False
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        m = re.match(r"^(S>B|B>S)(!?)\s+(.*~P.*)$", line.strip())
        if in_block and m:
            event = parse_line(m.group(3).encode())[-1]
            if isinstance(event, Frame):
                out.append((m.group(1), m.group(2) == "!", event))
    return out


def test_spec_examples_are_valid_messages() -> None:
    """Requests decode (or get the documented ERR); answers parse as the request's response."""
    pending: dict[int, Frame] = {}
    answers = 0
    for direction, _, frame in _spec_frames():
        if direction == "S>B":
            pending[frame.seq] = frame
            continue
        answers += 1
        if frame.name == BUSY:
            Progress.from_fields(frame.fields)
            continue
        if frame.name == NAK:
            assert frame.seq == 0
            assert not frame.fields
            continue
        if frame.name == ERR:
            failure = Failure.from_fields(frame.fields)
            assert failure.status in set(Status)
            expected = _expected_error(pending.get(frame.seq))
            assert expected is None or failure.status == expected, frame
            continue
        assert frame.name == OK, frame
        request = decode_request(pending[frame.seq].name, pending[frame.seq].fields)
        assert isinstance(request, Request)
        request.parse_response(frame.fields)
    assert answers >= 40


def _expected_error(request: Frame | None) -> Status | None:
    """The status a board must give a request it cannot even decode; None if it decodes."""
    if request is None:
        return None
    if request.version != framing.VERSION:
        return Status.BAD_VERSION
    try:
        decode_request(request.name, request.fields)
    except UnknownRequest:
        return Status.UNSUPPORTED
    except FieldError:
        return Status.BAD_REQUEST
    return None


def test_spec_session_objects_are_complete_and_match_their_digests() -> None:
    """In the worked session, the CSR and the signature are read whole (inline bytes, then READ):
    check what was read."""
    text = SPEC.read_text(encoding="utf-8")
    session = text[text.index("## 8.") : text.index("## 9.")]
    frames = [
        (d, f)
        for d, damaged, f in _spec_frames()
        if not damaged and encode(f).decode().rstrip("\n") in session
    ]
    objects: dict[str, bytearray] = {"csr": bytearray(), "sig": bytearray()}
    described: dict[str, ObjectInfo] = {}
    last: dict[int, Frame] = {}
    for direction, frame in frames:
        if direction == "S>B":
            last[frame.seq] = frame
            continue
        request = last[frame.seq]
        if frame.name != OK:
            continue
        if request.name in ("GET_CSR", "SIGN"):
            kind = "csr" if request.name == "GET_CSR" else "sig"
            described[kind] = ObjectInfo.from_fields(frame.fields)
            objects[kind] += described[kind].data or b""  # SPEC.md 1.3: inline, from offset 0
        elif request.name == "READ" and request.fields["obj"] in objects:
            chunk = Chunk.from_fields(frame.fields)
            buf = objects[request.fields["obj"]]
            assert chunk.off == len(buf) == int(request.fields["off"])
            buf += chunk.data
    for kind, info in described.items():
        assert len(objects[kind]) == info.total
        assert hashlib.sha256(objects[kind]).digest() == info.sha256
    assert set(described) == {"csr", "sig"}


def test_spec_hello_examples_fit_their_mtu_in_the_worst_case() -> None:
    """SPEC.md 1.1 item 1: every HELLO answer shown fits its board's mtu whatever its state, and
    the main example board (mtu 128) fits the minimum mtu."""
    hellos = [
        HelloInfo.from_fields(frame.fields)
        for direction, _, frame in _spec_frames()
        if direction == "B>S" and frame.name == OK and "uid" in frame.fields
    ]
    assert len(hellos) >= 3
    for info in hellos:
        assert worst_case_hello(info) <= info.mtu, info
    assert any(info.mtu == MIN_MTU for info in hellos)
