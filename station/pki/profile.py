"""The device certificate profile (DESIGN section 4): subject, validity and extensions.

Pure: takes a board identity, keys and times, returns `cryptography` values. The subject is built
by the station from the board's reported identity and never copied from the CSR.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from station.phrasing import quoted
from station.pki.errors import PolicyRejection
from station.pki.keys import CaPrivateKey, CertifiablePublicKey

#: RFC 5280 notAfter for "no well-defined expiration date".
NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: ub-common-name and ub-serial-number (RFC 5280 appendix A).
MAX_CN_CHARS = 64
MAX_UID_CHARS = 64
# PrintableString alphabet (X.680 41.4), which serialNumber uses.
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]+")
# AWS IoT thing names.
_THING_NAME = re.compile(r"[A-Za-z0-9:_-]{1,128}")


@dataclass(frozen=True)
class ReportedIdentity:
    """Who a board says it is (from HELLO, or from the operator for manual signing)."""

    uid: str
    model: str = ""
    firmware: str = ""


@dataclass(frozen=True)
class DeviceProfile:
    """How device certificates look. station.toml's ``[profile]`` builds one
    (``StationConfig.device_profile``); tests build them directly."""

    common_name: str = "{uid}"
    organization: str = ""
    validity_days: int | None = 7300
    backdate: timedelta = timedelta(minutes=5)
    ec_key_agreement: bool = True
    station_id: str = ""

    def thing_name(self, board: ReportedIdentity) -> str:
        """The CN and AWS IoT thing name for ``board``; refuses identities that cannot be used."""
        if not board.uid or len(board.uid) > MAX_UID_CHARS or not _PRINTABLE.fullmatch(board.uid):
            raise PolicyRejection(
                "subject.invalid_uid",
                f"board unique id {quoted(board.uid)} is empty, longer than {MAX_UID_CHARS} "
                "characters or not PrintableString; check the board firmware's HELLO or the "
                "--device-id",
            )
        name = self.common_name.format(uid=board.uid, model=board.model, station=self.station_id)
        if len(name) > MAX_CN_CHARS or not _THING_NAME.fullmatch(name):
            raise PolicyRejection(
                "subject.invalid_thing_name",
                f"thing name {quoted(name)} (from template {quoted(self.common_name)}) is not "
                "1-64 of A-Z a-z 0-9 : _ -; fix [profile] common_name or the board's model/uid",
            )
        return name

    def subject(self, board: ReportedIdentity) -> x509.Name:
        """CN = thing name, serialNumber = board unique id, O from config (if set).

        Built once per board (the checks after HELLO and the signer both ask, and building a
        Name validates every attribute): a Name is immutable, so its users share it. Only the
        uid and model make a board's name; a refusal is not remembered."""
        return _subject(self, ReportedIdentity(board.uid, board.model))

    def build_subject(self, board: ReportedIdentity) -> x509.Name:
        """:meth:`subject`, built afresh."""
        attributes = [
            x509.NameAttribute(NameOID.COMMON_NAME, self.thing_name(board)),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, board.uid),
        ]
        if self.organization:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        return x509.Name(attributes)

    def validity(self, now: datetime, issuer_not_after: datetime) -> tuple[datetime, datetime]:
        """notBefore (backdated) and notAfter; a finite validity is capped at the issuer's end."""
        not_before = (now - self.backdate).replace(microsecond=0)
        if self.validity_days is None:
            return not_before, NO_EXPIRY
        not_after = (now + timedelta(days=self.validity_days)).replace(microsecond=0)
        return not_before, min(not_after, issuer_not_after)

    def extensions(
        self, public_key: CertifiablePublicKey, issuer_ski: x509.SubjectKeyIdentifier
    ) -> list[tuple[x509.ExtensionType, bool]]:
        """Extensions with their criticality, in the order they appear in the certificate."""
        agreement = self.ec_key_agreement and isinstance(public_key, ec.EllipticCurvePublicKey)
        return [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (key_usage(digital_signature=True, key_agreement=agreement), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
            (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
            (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), False),
        ]


@functools.lru_cache(maxsize=256)
def _subject(profile: DeviceProfile, board: ReportedIdentity) -> x509.Name:
    return profile.build_subject(board)


def key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_agreement: bool = False,
    ca: bool = False,
) -> x509.KeyUsage:
    """A KeyUsage with only the named bits set (``ca``: keyCertSign and cRLSign)."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def signature_hash(key: CaPrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    """SHA-256 for RSA and P-256 keys; SHA-384/SHA-512 for P-384/P-521, matching the curve."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size >= 521:
            return hashes.SHA512()
        if key.curve.key_size >= 384:
            return hashes.SHA384()
    return hashes.SHA256()


def name_text(name: x509.Name) -> str:
    """A certificate name as our outputs print it: RFC 4514, with ``serialNumber`` spelled out
    (``cryptography`` writes its OID, ``2.5.4.5``)."""
    return name.rfc4514_string({NameOID.SERIAL_NUMBER: "serialNumber"})
