"""The device certificate profile, the signer's seams (key object, clock, serials), serials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from station.pki.errors import CaMismatch, PkiError, PolicyRejection
from station.pki.profile import NO_EXPIRY, DeviceProfile, ReportedIdentity, name_text
from station.pki.serials import parse_serial, random_serial, serial_hex
from station.pki.signer import DeviceSigner, IssuedCertificate

from .conftest import (
    BOARD,
    NOW,
    Hierarchy,
    accept,
    counting_serials,
    fixed_clock,
    make_csr,
    rsa_key,
)


def test_device_certificate_profile(signer: DeviceSigner, hierarchy: Hierarchy) -> None:
    issued = signer.sign(accept(make_csr(ec.generate_private_key(ec.SECP256R1()))))
    cert = issued.certificate
    assert cert.version == x509.Version.v3
    assert cert.issuer == hierarchy.intermediate.subject
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "board-0001"
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "board-0001"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme Devices"
    assert cert.not_valid_before_utc == NOW - timedelta(minutes=5)
    assert cert.not_valid_after_utc == NOW + timedelta(days=365)
    ext = cert.extensions
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert (bc.critical, bc.value.ca) == (True, False)
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert (ku.critical, ku.value.digital_signature, ku.value.key_agreement) == (True, True, True)
    assert not ku.value.key_cert_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())  # type: ignore[arg-type]
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    issuer_ski = hierarchy.intermediate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    assert aki.key_identifier == issuer_ski.digest
    assert aki.authority_cert_issuer is None
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert len(ext) == 5
    cert.verify_directly_issued_by(hierarchy.intermediate)


def test_subject_never_copied_from_csr(signer: DeviceSigner) -> None:
    data = make_csr(ec.generate_private_key(ec.SECP256R1()), cn=None)
    san = x509.SubjectAlternativeName([x509.DNSName("evil.example")])
    data = make_csr(ec.generate_private_key(ec.SECP256R1()), extensions=[(san, False)])
    cert = signer.sign(accept(data)).certificate
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_rsa_device_key_gets_no_key_agreement(signer: DeviceSigner) -> None:
    cert = signer.sign(accept(make_csr(rsa_key(2048)))).certificate
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (ku.digital_signature, ku.key_agreement, ku.key_encipherment) == (True, False, False)


def test_subject_template_and_no_organization(hierarchy: Hierarchy) -> None:
    profile = DeviceProfile(common_name="{model}-{uid}", ec_key_agreement=False)
    signer = DeviceSigner(hierarchy.intermediate, hierarchy.key, profile, clock=fixed_clock)
    board = ReportedIdentity(uid="board-0001", model="sensor")
    issued = signer.sign(
        accept(make_csr(ec.generate_private_key(ec.SECP256R1()), cn=None), board, profile)
    )
    cert = issued.certificate
    assert issued.subject == "serialNumber=board-0001,CN=sensor-board-0001"
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_agreement


def test_validity_forever_and_capped(hierarchy: Hierarchy) -> None:
    forever = DeviceSigner(
        hierarchy.intermediate, hierarchy.key, DeviceProfile(validity_days=None), clock=fixed_clock
    )
    csr = make_csr(ec.generate_private_key(ec.SECP256R1()))
    assert forever.sign(accept(csr)).not_after == NO_EXPIRY
    long = DeviceSigner(
        hierarchy.intermediate, hierarchy.key, DeviceProfile(validity_days=30000), clock=fixed_clock
    )
    assert long.sign(accept(csr)).not_after == hierarchy.intermediate.not_valid_after_utc


def test_clock_and_serial_source_are_used(hierarchy: Hierarchy) -> None:
    later = datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    signer = DeviceSigner(
        hierarchy.intermediate,
        hierarchy.key,
        DeviceProfile(),
        clock=lambda: later,
        serials=counting_serials(42),
    )
    csr = accept(make_csr(ec.generate_private_key(ec.SECP256R1())))
    assert [signer.sign(csr).serial for _ in range(3)] == [42, 43, 44]
    assert signer.sign(csr).not_before == datetime(2030, 1, 2, 2, 59, 5, tzinfo=UTC)


def test_naive_clock_and_bad_serial_refused(hierarchy: Hierarchy) -> None:
    csr = accept(make_csr(ec.generate_private_key(ec.SECP256R1())))
    naive = DeviceSigner(
        hierarchy.intermediate, hierarchy.key, DeviceProfile(), clock=lambda: datetime(2030, 1, 1)
    )
    with pytest.raises(PkiError, match="naive"):
        naive.sign(csr)
    for bad in (0, -1, 1 << 159):
        zero = DeviceSigner(
            hierarchy.intermediate,
            hierarchy.key,
            DeviceProfile(),
            clock=fixed_clock,
            serials=lambda b=bad: b,
        )
        with pytest.raises(PkiError, match="serial"):
            zero.sign(csr)


def test_signer_refuses_a_key_that_is_not_the_intermediates(hierarchy: Hierarchy) -> None:
    with pytest.raises(CaMismatch):
        DeviceSigner(
            hierarchy.intermediate, ec.generate_private_key(ec.SECP256R1()), DeviceProfile()
        )


class TokenKey(ec.EllipticCurvePrivateKey):
    """Stands in for a PKCS#11 key: signs digests through an opaque handle, exports nothing."""

    def __init__(self, inner: ec.EllipticCurvePrivateKey) -> None:
        self._inner = inner
        self.operations = 0

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        self.operations += 1
        return self._inner.sign(data, signature_algorithm)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._inner.public_key()

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._inner.curve

    @property
    def key_size(self) -> int:
        return self._inner.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise NotImplementedError

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise NotImplementedError("a token never exports its key")

    def private_bytes(self, *args: object) -> bytes:
        raise NotImplementedError("a token never exports its key")

    def __copy__(self) -> TokenKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenKey:
        return self


def test_signer_works_with_a_token_backed_key(hierarchy: Hierarchy) -> None:
    token = TokenKey(hierarchy.key)  # type: ignore[arg-type]
    signer = DeviceSigner(hierarchy.intermediate, token, DeviceProfile(), clock=fixed_clock)
    issued = signer.sign(accept(make_csr(ec.generate_private_key(ec.SECP256R1()))))
    issued.certificate.verify_directly_issued_by(hierarchy.intermediate)
    assert token.operations == 1
    _ = utils  # prehashed signing is the token's business, not ours


def test_ten_thousand_issued_serials(signer: DeviceSigner) -> None:
    accepted = accept(make_csr(ec.generate_private_key(ec.SECP256R1())))
    serials = [signer.sign(accepted).certificate.serial_number for _ in range(10_000)]
    assert len(set(serials)) == 10_000
    assert all(0 < s < 1 << 159 for s in serials)
    assert all(
        len(s.to_bytes((s.bit_length() + 8) // 8, "big", signed=True)) <= 20 for s in serials
    )
    # Every one of the 159 bit positions varies across the sample: far more than 64 random bits.
    ones, zeros = 0, 0
    for s in serials:
        ones |= s
        zeros |= ~s
    assert ones == zeros & ((1 << 159) - 1) == (1 << 159) - 1
    assert max(s.bit_length() for s in serials) == 159


def test_random_serial_text_forms() -> None:
    serial = random_serial()
    assert parse_serial(serial_hex(serial)) == serial
    assert parse_serial("0x" + serial_hex(serial).upper()) == serial
    assert parse_serial("0a:0b") == 0x0A0B
    with pytest.raises(ValueError):
        parse_serial("  ")


def test_board_identity_is_what_the_certificate_names() -> None:
    assert BOARD.uid == "board-0001"


#: What a uid may hold that also fits a thing name; the organization's values carry the
#: characters RFC 4514 escapes.
_UID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-"
_EC_KEY = ec.generate_private_key(ec.SECP256R1())


@settings(max_examples=40, deadline=None)
@given(
    uid=st.text(_UID_CHARS, min_size=1, max_size=40),
    organization=st.sampled_from(["", "Acme Devices", "Acme, Inc.", '#A "quoted" + <org>; ']),
    template=st.sampled_from(["{uid}", "{model}-{uid}", "dev_{station}-{uid}"]),
    days=st.sampled_from([None, 1, 365, 30000]),
)
def test_issued_facts_equal_the_certificates_own(
    hierarchy: Hierarchy, uid: str, organization: str, template: str, days: int | None
) -> None:
    # The subject text and validity come from what the certificate was built with; they are
    # what decoding them out of the signed certificate gives.
    profile = DeviceProfile(common_name=template, organization=organization, validity_days=days)
    signer = DeviceSigner(hierarchy.intermediate, hierarchy.key, profile, clock=fixed_clock)
    board = ReportedIdentity(uid=uid, model="sensor")
    issued = signer.sign(accept(make_csr(_EC_KEY, cn=None), board, profile))
    cert = issued.certificate
    assert issued.subject == name_text(cert.subject)
    assert (issued.not_before, issued.not_after) == (
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )
    decoded = IssuedCertificate(cert, board, issued.serial, issued.spki_sha256)
    assert (decoded.subject, decoded.not_before, decoded.not_after) == (
        issued.subject,
        issued.not_before,
        issued.not_after,
    )


@settings(max_examples=200, deadline=None)
@given(
    uid=st.text(_UID_CHARS + " ,+=", min_size=0, max_size=70),
    model=st.sampled_from(["", "sensor", "gate way", "m:1"]),
    organization=st.sampled_from(["", "Acme Devices", "Acme, Inc."]),
    template=st.sampled_from(["{uid}", "{model}-{uid}", "dev_{station}-{uid}"]),
)
def test_a_boards_subject_is_built_once_and_equals_a_fresh_one(
    uid: str, model: str, organization: str, template: str
) -> None:
    profile = DeviceProfile(common_name=template, organization=organization, station_id="st1")
    board = ReportedIdentity(uid=uid, model=model, firmware="1.0")
    try:
        fresh = profile.build_subject(board)
    except PolicyRejection as e:
        refused = e
    else:
        refused = None
    if refused is not None:
        for _ in range(2):  # refused every time, not remembered
            with pytest.raises(PolicyRejection) as again:
                profile.subject(board)
            assert (again.value.code, again.value.message) == (refused.code, refused.message)
        return
    shared = profile.subject(board)
    assert shared == fresh
    assert shared.public_bytes() == fresh.public_bytes()
    assert profile.subject(ReportedIdentity(uid=uid, model=model, firmware="2.0")) is shared
    other = DeviceProfile(common_name=template, organization=organization + "x")
    assert other.subject(board) != shared
