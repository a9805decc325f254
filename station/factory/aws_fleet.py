"""The fleet's CAs in AWS IoT: each station's intermediate, found for each certificate it issued.

A station registers its own intermediate (`station aws register-ca`), which records the CA's AWS
id and mode in its audit database; its next `station factory sync` brings that to the store. A
fleet-level run describes each CA so recorded (the store holds no intermediate certificate, and
the account may hold CAs that are none of ours) and finds each device certificate's issuer
among them by the authority key identifier (by issuer name where a certificate has none). The
reconcile over the fleet reads the cloud under every CA that issued a certificate in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography import x509

from station.aws.ca import DEFAULT, SNI_ONLY, CaRegistration
from station.aws.cloud import IotCloud
from station.aws.errors import CaNotRegistered
from station.aws.reconcile import CloudCertificate, CloudSnapshot
from station.aws.snapshot import read_snapshot
from station.aws.source import LocalCertificate


@dataclass(frozen=True)
class FleetCa:
    """One CA registered in the account: its registration and PEM."""

    registration: CaRegistration
    pem: str
    subject: bytes  # DER of the subject name
    key_id: bytes | None  # subject key identifier


def _key_id(cert: x509.Certificate, ext: type[x509.ExtensionType]) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_class(ext).value
    except x509.ExtensionNotFound:
        return None
    found = getattr(value, "key_identifier", None) or getattr(value, "digest", None)
    return bytes(found) if found else None


class FleetCas:
    """The fleet's CAs registered in AWS IoT, and the issuer of each device certificate."""

    def __init__(self, cas: Iterable[FleetCa]) -> None:
        self.cas = list(cas)

    @classmethod
    def read(cls, cloud: IotCloud, recorded: Mapping[str, str]) -> FleetCas:
        """The CAs the stations recorded registering (AWS certificate id: mode), as AWS IoT
        describes them now; its mode is what AWS says, or else what register-ca recorded."""
        found = []
        for ca_id, recorded_mode in sorted(recorded.items()):
            desc = cloud.ca_description(ca_id)
            if desc is None or not desc.get("certificatePem"):
                continue
            pem = str(desc["certificatePem"])
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
            mode = str(desc.get("certificateMode") or recorded_mode or DEFAULT)
            registration = CaRegistration(
                ca_id,
                str(desc.get("certificateArn", "")),
                str(desc.get("status", "")),
                mode,
                already=True,
            )
            found.append(
                FleetCa(
                    registration,
                    pem,
                    cert.subject.public_bytes(),
                    _key_id(cert, x509.SubjectKeyIdentifier),
                )
            )
        return cls(found)

    def issuer_of(self, cert: LocalCertificate) -> FleetCa | None:
        """The registered CA that issued ``cert``, if any."""
        device = x509.load_pem_x509_certificate(cert.pem.encode("ascii"))
        key_id = _key_id(device, x509.AuthorityKeyIdentifier)
        issuer = device.issuer.public_bytes()
        for ca in self.cas:
            if key_id is not None and ca.key_id is not None:
                if ca.key_id == key_id:
                    return ca
            elif ca.subject == issuer:
                return ca
        return None

    def ca_pem_for(self, cert: LocalCertificate, station: str | None) -> str | None:
        """The CA PEM to register ``cert`` with (None: SNI_ONLY, without a CA); CaNotRegistered
        naming the station to run register-ca on when its CA is not in the account."""
        ca = self.issuer_of(cert)
        if ca is None:
            device = x509.load_pem_x509_certificate(cert.pem.encode("ascii"))
            raise CaNotRegistered(
                f"certificate {cert.serial} (board {cert.board_uid}, station {station or '?'}): "
                f"its CA ({device.issuer.rfc4514_string()}) is not among the CAs registered "
                "with AWS IoT in this account and region as the store records them: run "
                "`station aws register-ca` and then `station factory sync` on that station, "
                "then `station aws sync --from-store` again"
            )
        return None if ca.registration.mode == SNI_ONLY else ca.pem

    def snapshot(self, cloud: IotCloud, local: list[LocalCertificate]) -> CloudSnapshot:
        """The cloud under every CA that issued one of ``local``, read as one snapshot."""
        used = {ca.registration.certificate_id: ca for c in local if (ca := self.issuer_of(c))}
        certificates: dict[str, CloudCertificate] = {}
        things: dict[str, tuple[str, ...] | None] = {}
        under_ca = True
        for i, ca in enumerate(used.values()):
            # The things are the same whichever CA is read: ask about them once.
            part = read_snapshot(cloud, ca.registration, local if i == 0 else [])
            certificates.update(part.certificates)
            things.update(part.things)
            under_ca = under_ca and part.under_ca
        return CloudSnapshot(certificates, things, under_ca)
