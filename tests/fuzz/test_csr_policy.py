"""Hostile DER and PEM against the CSR policy and the DER reader underneath it.

Property: :func:`check_csr` either accepts (then the request really is a valid, correctly
signed CSR, and the accepted key is the CSR's own key: checked here without the policy's code)
or raises :class:`PolicyRejection` with a code and a message. Never another exception, never a
hang: every input is bounded in size. The DER reader, the mbedTLS fix-up and ``csr_der``'s
functions raise only :class:`DerError`.
"""

from __future__ import annotations

import base64
import functools
import re

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from device_protocol import der as der_reader
from device_protocol.csr_encoding import normalise_csr_der
from device_protocol.der import DerError
from station.pki import csr_der
from station.pki.errors import PolicyRejection
from station.pki.policy import AcceptedCsr, CsrPolicy, check_csr
from station.pki.profile import DeviceProfile, ReportedIdentity

from . import der
from .der import BIT_STRING, CONTEXT_0, INTEGER, NULL, OCTET_STRING, oid, seq, set_of, tlv, utf8


def read_tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at ``offset``."""
    element = der_reader.read(data, offset)
    return element.tag, element.body, element.end


# `cryptography` warns (UserWarning) about a countryName of the wrong length: expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")

BOARD = ReportedIdentity(uid="board-0001", model="sensor", firmware="1.2.3")
POLICY = CsrPolicy()
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_CODE = re.compile(r"[a-z_]+\.[a-z_]+\Z")

# ---- seeds -----------------------------------------------------------------------------------


@functools.cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def built_csr(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    subject = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COMMON_NAME, "board-0001"),
            x509.NameAttribute(x509.NameOID.SERIAL_NUMBER, "board-0001"),
        ]
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.DER)


@functools.cache
def seeds() -> dict[str, bytes]:
    """Valid requests the policy accepts: EC, RSA, mbedTLS-style EC (explicit NULL), PEM."""
    out = {
        "ec": built_csr(ec_key()),
        "rsa": built_csr(rsa_key()),
        "ec-mbedtls": der.sign_request(ec_key(), der.request_info(ec_key()), explicit_null=True),
    }
    out["ec-pem"] = pem(out["ec"])
    for name, data in out.items():
        assert isinstance(outcome(data), AcceptedCsr), name
    return out


def pem(data: bytes, label: bytes = b"CERTIFICATE REQUEST") -> bytes:
    body = base64.encodebytes(data)
    return b"-----BEGIN " + label + b"-----\n" + body + b"-----END " + label + b"-----\n"


# ---- the oracle ------------------------------------------------------------------------------


def outcome(data: bytes) -> AcceptedCsr | PolicyRejection:
    """Run the policy; check whatever it answered; return it."""
    try:
        accepted = check_csr(
            data, BOARD, policy=POLICY, profile=DeviceProfile(), key_known=lambda _: False
        )
    except PolicyRejection as rejection:
        return checked_rejection(rejection)
    assert len(data) <= POLICY.max_csr_bytes
    assert_really_valid(data, accepted)
    return accepted


def checked_rejection(rejection: PolicyRejection) -> PolicyRejection:
    assert _CODE.match(rejection.code), rejection.code
    assert rejection.message.strip()
    return rejection


def assert_really_valid(data: bytes, accepted: AcceptedCsr) -> None:
    """An accepted request, checked without the policy's code: the signed part comes from the
    input, the signature verifies over it with the key it carries, and that key is the one
    the policy accepted."""
    csr = x509.load_der_x509_csr(accepted.csr_der)
    signed = csr.tbs_certrequest_bytes
    raw = data
    if data.lstrip().startswith(b"-----BEGIN"):
        match = re.search(rb"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----(.+?)-----END", data, re.S)
        assert match is not None
        raw = base64.b64decode(b"".join(match.group(1).split()))
    assert signed in raw, "the signed request info must be the input's, byte for byte"
    spki = accepted.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki in signed, "the accepted key must be the one inside the signed request"
    assert accepted.key_label in ("EC P-256", "EC P-384", "EC P-521", "RSA 2048", "RSA 3072")
    hash_algorithm = csr.signature_hash_algorithm
    assert isinstance(hash_algorithm, hashes.SHA256 | hashes.SHA384 | hashes.SHA512)
    key = accepted.public_key
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(csr.signature, signed, ec.ECDSA(hash_algorithm))
        else:
            key.verify(csr.signature, signed, padding.PKCS1v15(), hash_algorithm)
    except InvalidSignature:  # pragma: no cover - this is the failure being looked for
        pytest.fail("accepted a CSR whose signature does not verify")


def assert_der_reader_contained(data: bytes) -> None:
    """The DER functions on the same input: results or DerError, nothing else."""
    try:
        raw = csr_der.pem_or_der_to_der(data)
    except DerError:
        raw = data
    for offset in {0, 1, 2, len(raw) // 2, max(len(raw) - 2, 0), len(raw)}:
        try:
            tag, start, end = read_tlv(raw, offset)
        except DerError:
            continue
        assert 0 <= tag <= 0xFF
        assert offset + 2 <= start <= end <= len(raw)
    normalised, changed = normalise_csr_der(raw)
    assert isinstance(normalised, bytes)
    if changed:
        assert len(normalised) < len(raw)
    else:
        assert normalised == raw
    algorithm = csr_der.spki_algorithm(raw)
    assert algorithm == b"" or algorithm in raw


def assert_contained(data: bytes) -> AcceptedCsr | PolicyRejection:
    assert_der_reader_contained(data)
    return outcome(data)


# ---- mutations -------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seed_names: tuple[str, ...] = ("ec", "rsa", "ec-mbedtls")) -> bytes:
    """A valid CSR with 1-4 bit flips, byte insertions, deletions, overwrites or slice copies."""
    data = bytearray(seeds()[draw(st.sampled_from(seed_names))])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "set", "copy"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 4))]
        elif op == "set":
            data[at] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x84, 0xFF, 0x30, 0x05]))
        else:
            end = draw(st.integers(at, min(len(data), at + 64)))
            data[at:at] = data[at:end]
    return bytes(data)


def tlv_offsets(data: bytes) -> list[int]:
    """Offsets of every TLV header inside constructed types (SEQUENCE, SET, [0]) of ``data``."""
    found: list[int] = []
    todo = [(0, len(data))]
    while todo:
        pos, end = todo.pop()
        while pos < end:
            tag, start, stop = read_tlv(data, pos)
            found.append(pos)
            if tag & 0x20:
                todo.append((start, stop))
            pos = stop
    return found


#: Length octets that claim more than is there, or that DER forbids.
HOSTILE_LENGTHS = [
    b"\x84\x80\x00\x00\x00",  # 2**31
    b"\x84\xff\xff\xff\xff",  # 2**32 - 1
    b"\x88" + (2**63).to_bytes(8, "big"),  # eight length octets
    b"\x8f" + b"\xff" * 15,
    b"\xff" + b"\x01" * 127,  # 127 length octets
    b"\x80",  # indefinite length (BER, not DER)
    b"\x81\x05",  # non-minimal
    b"\x82\x00\x10",  # leading zero octet
    b"\x85\x00\x00\x00\x00\x01",
    b"\x00",
    b"\x7f",
]


@st.composite
def hostile_length_in_csr(draw: st.DrawFn) -> bytes:
    """A real CSR with the length octets of one of its TLVs replaced by hostile ones."""
    data = seeds()[draw(st.sampled_from(["ec", "rsa", "ec-mbedtls"]))]
    at = draw(st.sampled_from(tlv_offsets(data)))
    _, start, _ = read_tlv(data, at)
    octets = draw(st.sampled_from(HOSTILE_LENGTHS))
    assume(octets != data[at + 1 : start])  # e.g. "\x00" for an empty [0]: nothing changed
    return data[: at + 1] + octets + data[start:]


# ---- structured hostile DER, signed with a real key ------------------------------------------

_TAGS = [0x01, INTEGER, BIT_STRING, OCTET_STRING, NULL, 0x06, 0x0C, 0x13, 0x16, 0x17, 0x18, 0x1E]
_ARC = st.one_of(st.integers(0, 200), st.integers(0, 2**64), st.just(2**400))

der_leaf = st.builds(tlv, st.sampled_from(_TAGS), st.binary(max_size=40))
der_oid = st.builds(
    lambda first, arcs: tlv(0x06, der.oid_content([first, 39 if first < 2 else 9, *arcs])),
    st.integers(0, 2),
    st.lists(_ARC, max_size=6),
)
der_value = st.recursive(
    st.one_of(der_leaf, der_oid),
    lambda inner: st.one_of(
        st.builds(lambda xs: seq(*xs), st.lists(inner, max_size=4)),
        st.builds(lambda xs: set_of(*xs), st.lists(inner, max_size=4)),
        st.builds(lambda x: tlv(CONTEXT_0, x), inner),
    ),
    max_leaves=12,
)
known_oids = st.sampled_from(
    [
        "2.5.4.3",
        "2.5.4.5",
        "2.5.4.6",
        "2.5.4.10",
        "2.5.29.14",
        "2.5.29.15",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.37",
        "1.2.840.113549.1.9.14",
        "1.2.840.113549.1.9.7",
    ]
).map(oid)
attribute_type = st.one_of(known_oids, der_oid)
string_value = st.one_of(
    st.text(max_size=30).map(utf8),
    st.builds(tlv, st.sampled_from([0x0C, 0x13, 0x14, 0x16, 0x1C, 0x1E]), st.binary(max_size=30)),
)
subject = st.one_of(
    st.lists(st.tuples(attribute_type, st.one_of(string_value, der_value)), max_size=4).map(
        lambda pairs: seq(*(set_of(seq(t, v)) for t, v in pairs))
    ),
    der_value,
)
extension = st.builds(
    lambda t, critical, value: seq(t, *([tlv(0x01, b"\xff")] if critical else []), value),
    st.one_of(known_oids, der_oid),
    st.booleans(),
    st.one_of(st.builds(tlv, st.just(OCTET_STRING), der_value), der_value),
)
attributes = st.lists(
    st.one_of(
        st.builds(
            lambda exts: seq(oid(der.EXTENSION_REQUEST), set_of(seq(*exts))),
            st.lists(extension, max_size=3),
        ),
        st.builds(
            lambda t, vs: seq(t, set_of(*vs)), attribute_type, st.lists(der_value, max_size=2)
        ),
    ),
    max_size=3,
).map(lambda xs: b"".join(xs))


@st.composite
def signed_hostile(draw: st.DrawFn) -> bytes:
    """A request info with hostile parts, correctly signed: the signature cannot save it."""
    key = draw(st.sampled_from([ec_key, rsa_key]))()
    part = draw(st.sampled_from(["subject", "attributes", "version", "spki", "all"]))
    info = der.request_info(
        key,
        subject=draw(subject) if part in ("subject", "all") else None,
        attributes=draw(attributes) if part in ("attributes", "all") else b"",
        version=draw(der_value) if part in ("version", "all") else None,
        public_key_info=draw(der_value) if part == "spki" else None,
    )
    return der.sign_request(key, info, explicit_null=draw(st.booleans()))


# ---- properties ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ec", "rsa", "ec-mbedtls", "ec-pem"])
@FUZZ
@given(data=st.data())
def test_every_truncation_is_rejected(name: str, data: st.DataObject) -> None:
    full = seeds()[name]
    cut = data.draw(st.integers(0, len(full) - 1), label="prefix length")
    result = assert_contained(full[:cut])
    if name != "ec-pem":  # a PEM cut inside its END line still holds the whole request
        assert isinstance(result, PolicyRejection)


@FUZZ
@given(mutated())
def test_mutated_requests(data: bytes) -> None:
    assert_contained(data)


@FUZZ
@given(st.sampled_from(["ec", "rsa", "ec-mbedtls"]).flatmap(lambda n: mutated((n,))).map(pem))
def test_mutated_requests_in_pem(data: bytes) -> None:
    assert_contained(data)


@FUZZ
@given(hostile_length_in_csr())
def test_hostile_length_octets_inside_a_real_request(data: bytes) -> None:
    assert isinstance(assert_contained(data), PolicyRejection)


#: Signed, with a common name encoded as a BIT STRING: `cryptography` raised TypeError from
#: decoding the subject, which escaped the policy as a crash instead of csr.unparsable.
_BIT_STRING_CN = (
    b"0\x81\xc50m\x02\x01\x000\x0b1\t0\x07\x06\x03U\x04\x03\x03\x000Y0\x13\x06\x07*\x86H"
    b"\xce=\x02\x01\x06\x08*\x86H\xce=\x03\x01\x07\x03B\x00\x04\xdb8 \xd8<\xc1\x7f\xbd\x7fj"
    b"\xd4\xa4\xc2v\xd6HE\xc9;R\x92\xdc\xe4r\x1d\xd7w\xa1\x00\xc7x9_\x96\x9f7\xa2+\x84\xedq"
    b"\xf9\x16_\xd1l\x12\xb3\xc2\xc3}\xaa\xbf\x8f\x99~0\x84mc\xb3b\x01\xa6\xa0\x000\n\x06\x08"
    b"*\x86H\xce=\x04\x03\x02\x03H\x000E\x02 \t\xb9\xc9n\xfb\xfcW\xea\xbe#\x06K\xbf\x84\xe3"
    b"\x01%M\xa8\x13i=|\x03\x95Ec\xd2b\xfb\xbc\x82\x02!\x00\xfb.\x86\xc3}\x07\xbb\x1c00\xea"
    b"\x8b\xd8\x17\x9f\xf4\xc5\xee\xc0NNW\x82\xc7A\x1a\x95GNNh\xdb"
)


@FUZZ
@given(signed_hostile())
@example(_BIT_STRING_CN)
def test_signed_requests_with_hostile_structure(data: bytes) -> None:
    assert_contained(data)


@FUZZ
@given(st.one_of(st.binary(max_size=3000), der_value, st.builds(seq, der_value)))
def test_random_bytes_and_random_der(data: bytes) -> None:
    assert_contained(data)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=600).map(base64.encodebytes),
        st.binary(max_size=600),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        der_value.map(base64.encodebytes),
    ),
    label=st.sampled_from([b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST", b"CERTIFICATE"]),
    lead=st.sampled_from([b"", b"  \n", b"\t\r\n "]),
    cut=st.integers(0, 80),
)
def test_pem_wrappers_around_garbage(body: bytes, label: bytes, lead: bytes, cut: int) -> None:
    whole = lead + b"-----BEGIN " + label + b"-----\n" + body + b"\n-----END " + label + b"-----\n"
    for data in (whole, whole[: len(whole) - cut]):
        assert_contained(data)


@settings(max_examples=25, deadline=None)
@given(
    size=st.integers(POLICY.max_csr_bytes + 1, 4 * POLICY.max_csr_bytes),
    fill=st.sampled_from([b"\x00", b"\x30", b"A", b"\xff"]),
    wrap=st.sampled_from(["raw", "der-tail", "pem"]),
)
def test_inputs_over_the_size_limit(size: int, fill: bytes, wrap: str) -> None:
    if wrap == "raw":
        data = fill * size
    elif wrap == "der-tail":
        data = seeds()["ec"] + fill * size
    else:
        data = seeds()["ec-pem"] + b" " * size
    result = assert_contained(data)
    assert isinstance(result, PolicyRejection)
    assert result.code == "csr.too_large"


def nested(depth: int, *, long_form: bool = False) -> bytes:
    out = b""
    for _ in range(depth):
        out = (
            b"\x30"
            + (der_reader.encode_length(len(out)) if not long_form else _long(len(out)))
            + out
        )
    return out


def _long(n: int) -> bytes:
    return b"\x84" + n.to_bytes(4, "big")


def fake_rsa_request(n: int, e: int) -> bytes:
    """An RSA request whose 'signature' verifies for exponent 1 (s = padded digest)."""
    rsa_oid = seq(oid("1.2.840.113549.1.1.1"), tlv(NULL, b""))
    public = seq(der.integer(n), der.integer(e))
    spki = seq(rsa_oid, tlv(BIT_STRING, b"\x00" + public))
    info = der.request_info(ec_key(), public_key_info=spki)
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    digest = hashes.Hash(hashes.SHA256())
    digest.update(info)
    t = digest_info + digest.finalize()
    k = (n.bit_length() + 7) // 8
    signature = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    algorithm = seq(oid(der.RSA_SHA256), tlv(NULL, b""))
    return seq(info, algorithm, tlv(BIT_STRING, b"\x00" + signature))


def signature_unused_bits(data: bytes, value: int) -> bytes:
    """``data`` with the unused-bits octet of its signature BIT STRING set to ``value``."""
    _, pos, _ = read_tlv(data, 0)
    for _ in range(2):  # certificationRequestInfo, signatureAlgorithm
        _, _, pos = read_tlv(data, pos)
    tag, start, _ = read_tlv(data, pos)
    assert tag == BIT_STRING
    return data[:start] + bytes([value]) + data[start + 1 :]


def _ext(*extensions: bytes) -> bytes:
    return seq(oid(der.EXTENSION_REQUEST), set_of(seq(*extensions)))


def _signed(**parts: bytes) -> bytes:
    return der.sign_request(ec_key(), der.request_info(ec_key(), **parts))  # type: ignore[arg-type]


BC_FALSE = seq(oid("2.5.29.19"), tlv(0x01, b"\xff"), tlv(OCTET_STRING, seq()))
BC_TRUE = seq(oid("2.5.29.19"), tlv(0x01, b"\xff"), tlv(OCTET_STRING, seq(tlv(0x01, b"\xff"))))

#: Hand-made hostile inputs; each must be rejected.
HOSTILE: dict[str, object] = {
    "fail/sequence-claims-2**31": lambda: b"\x30\x84\x80\x00\x00\x00" + seeds()["ec"][4:],
    "fail/eight-length-octets": lambda: b"\x30\x88" + (300).to_bytes(8, "big") + b"\x00" * 300,
    "fail/127-length-octets": lambda: b"\x30\xff" + b"\x01" * 127,
    "fail/indefinite-length": lambda: b"\x30\x80" + seeds()["ec"][3:] + b"\x00\x00",
    "fail/4000-nested-sequences": lambda: nested(4000),
    "fail/3000-nested-long-form": lambda: nested(2700, long_form=True),
    "fail/nesting-inside-signed-san": lambda: _signed(
        attributes=_ext(seq(oid("2.5.29.17"), tlv(OCTET_STRING, nested(3000))))
    ),
    "fail/integer-for-subject": lambda: _signed(subject=der.integer(5)),
    "fail/integer-for-request": lambda: der.integer(2**4000),
    "fail/bit-string-unused-bits-9": lambda: seeds()["ec"].replace(
        b"\x03\x42\x00\x04", b"\x03\x42\x09\x04", 1
    ),
    "fail/signature-unused-bits-8": lambda: signature_unused_bits(seeds()["ec"], 8),
    # (1 unused bit on an RSA signature whose last bit happens to be 0 is accepted: the
    # octets are the same and verify; `cryptography` allows it, OpenSSL would not. Harmless,
    # as the CSR is never copied; whether it applies depends on the random key, so the
    # property tests' oracle covers it rather than this table.)
    "fail/oid-huge-arc-in-subject": lambda: _signed(
        subject=der.name(("2.5.4.3." + str(2**200), utf8("x")))
    ),
    "fail/oid-huge-arc-in-signature-algorithm": lambda: seq(
        der.request_info(ec_key()), seq(oid("1.2." + str(2**300))), tlv(BIT_STRING, b"\x00")
    ),
    "fail/version-5": lambda: _signed(version=der.integer(5)),
    "fail/duplicate-extension": lambda: _signed(attributes=_ext(BC_FALSE, BC_FALSE)),
    "fail/unsupported-general-name": lambda: _signed(
        attributes=_ext(seq(oid("2.5.29.17"), tlv(OCTET_STRING, seq(tlv(0xA3, seq())))))
    ),
    "fail/ca-request-in-second-extension-request": lambda: _signed(
        attributes=_ext(BC_FALSE) + _ext(BC_TRUE)
    ),
    "fail/multi-valued-extension-request": lambda: _signed(
        attributes=seq(oid(der.EXTENSION_REQUEST), set_of(seq(BC_FALSE), seq(BC_TRUE)))
    ),
    "fail/rsa-exponent-1": lambda: fake_rsa_request(rsa_key().public_key().public_numbers().n, 1),
    "fail/rsa-even-modulus-exponent-1": lambda: fake_rsa_request(2**2047 + 2, 1),
    "fail/empty": lambda: b"",
    "fail/pem-without-end": lambda: b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB",
    "fail/pem-of-nothing": lambda: pem(b""),
    "fail/pem-nested-begin": lambda: pem(b"-----BEGIN CERTIFICATE REQUEST-----"),
}


@pytest.mark.parametrize("build", HOSTILE.values(), ids=HOSTILE.keys())
def test_hand_made_hostile_inputs_are_rejected(build: object) -> None:
    data = build()  # type: ignore[operator]
    assert isinstance(data, bytes)
    assert isinstance(assert_contained(data), PolicyRejection)


@FUZZ
@given(st.integers(0, 2**32 - 1))
@example(0x7F)
@example(0x80)
@example(2**31)
def test_encode_length_round_trips_through_read_tlv(n: int) -> None:
    header = b"\x04" + der_reader.encode_length(n)
    if n <= 4096:
        assert read_tlv(header + b"\x00" * n, 0) == (4, len(header), len(header) + n)
    else:
        with pytest.raises(DerError, match="past the end"):
            read_tlv(header + b"\x00" * 16, 0)
