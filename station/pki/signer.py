"""The device certificate signer: an issuer key object, a clock and a serial source in, a
certificate out. It never touches the audit database; the workflow records what it issued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.pki.ca import issuer_ski, load_certificate, require_key_matches
from station.pki.errors import PkiError
from station.pki.keys import CaPrivateKey, load_private_key
from station.pki.policy import AcceptedCsr
from station.pki.profile import DeviceProfile, ReportedIdentity, name_text, signature_hash
from station.pki.serials import SerialSource, random_serial, serial_hex

#: A clock: returns the current time as a timezone-aware datetime.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class IssuedCertificate:
    """A freshly signed device certificate and the facts the audit database records (each
    worked out once: a cycle reads them several times)."""

    certificate: x509.Certificate
    board: ReportedIdentity
    serial: int
    spki_sha256: str
    #: The subject and validity the certificate was built with, when known: the same values
    #: the certificate holds, without decoding them back out of it.
    subject_name: x509.Name | None = field(default=None, compare=False)
    validity: tuple[datetime, datetime] | None = field(default=None, compare=False)

    @property
    def serial_hex(self) -> str:
        return serial_hex(self.serial)

    @cached_property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @cached_property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @cached_property
    def sha256(self) -> str:
        """SHA-256 fingerprint of the DER certificate, lower-case hex."""
        return hashlib.sha256(self.der).hexdigest()

    @cached_property
    def subject(self) -> str:
        """RFC 4514 text of the subject (``serialNumber`` spelled out)."""
        return name_text(self.subject_name or self.certificate.subject)

    @property
    def not_before(self) -> datetime:
        if self.validity is not None:
            return self.validity[0]
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        if self.validity is not None:
            return self.validity[1]
        return self.certificate.not_valid_after_utc


class DeviceSigner:
    """Signs device certificates with the station intermediate, per a :class:`DeviceProfile`.

    ``issuer_key`` is any `cryptography` EC or RSA private key object, including a subclass
    backed by a hardware token: the signer only calls ``sign`` and ``public_key`` on it.
    """

    def __init__(
        self,
        issuer_cert: x509.Certificate,
        issuer_key: CaPrivateKey,
        profile: DeviceProfile,
        *,
        clock: Clock = utc_now,
        serials: SerialSource = random_serial,
    ) -> None:
        require_key_matches(issuer_cert, issuer_key.public_key(), "the signing intermediate")
        self.issuer_cert = issuer_cert
        self.issuer_key = issuer_key
        self.profile = profile
        self.clock = clock
        self.serials = serials
        self._issuer_ski = issuer_ski(issuer_cert)
        self._hash = signature_hash(issuer_key)
        self._issuer_pem = issuer_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        # Decoded once: the certificate object decodes them afresh on every access.
        self._issuer_name = issuer_cert.subject
        self._issuer_not_after = issuer_cert.not_valid_after_utc

    @classmethod
    def from_files(
        cls,
        cert_path: Path,
        key_path: Path,
        passphrase: str,
        profile: DeviceProfile,
        *,
        clock: Clock = utc_now,
        serials: SerialSource = random_serial,
    ) -> DeviceSigner:
        """A signer whose intermediate certificate and encrypted key are PEM files."""
        return cls(
            load_certificate(cert_path),
            load_private_key(key_path, passphrase),
            profile,
            clock=clock,
            serials=serials,
        )

    @property
    def issuer_pem(self) -> str:
        """The intermediate certificate, PEM: what a board stores after its own certificate."""
        return self._issuer_pem

    def sign(self, accepted: AcceptedCsr) -> IssuedCertificate:
        """Build and sign the device certificate for a CSR the policy accepted."""
        now = self.clock()
        if now.tzinfo is None:
            raise PkiError("the signer's clock returned a naive datetime; it must be aware (UTC)")
        serial = self.serials()
        if not 0 < serial < 1 << 159:
            raise PkiError(f"serial source returned {serial}: not a positive 159-bit integer")
        not_before, not_after = self.profile.validity(now, self._issuer_not_after)
        subject = self.profile.subject(accepted.board)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._issuer_name)
            .public_key(accepted.public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        for extension, critical in self.profile.extensions(accepted.public_key, self._issuer_ski):
            builder = builder.add_extension(extension, critical=critical)
        certificate = builder.sign(self.issuer_key, self._hash)
        return IssuedCertificate(
            certificate,
            accepted.board,
            serial,
            accepted.spki_sha256,
            subject_name=subject,
            validity=(not_before, not_after),
        )
