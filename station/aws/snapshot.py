"""Reading the cloud for the reconcile: certificates and the things of ours. Reads only."""

from __future__ import annotations

from collections.abc import Iterable

from station.aws.ca import SNI_ONLY, CaRegistration
from station.aws.cloud import IotCloud
from station.aws.errors import CloudCallFailed
from station.aws.reconcile import CloudCertificate, CloudSnapshot
from station.aws.source import LocalCertificate, LocalState


def _cert_id(principal: str) -> str:
    """The certificate id of a principal ARN (``arn:...:cert/<id>``)."""
    return principal.rpartition("cert/")[2] if "cert/" in principal else principal


def read_snapshot(
    cloud: IotCloud, ca: CaRegistration, local: Iterable[LocalCertificate]
) -> CloudSnapshot:
    """The certificates under the CA (the account's, in SNI_ONLY mode) and, for each thing of a
    certificate on a board here, the certificates attached to it."""
    under_ca = ca.mode != SNI_ONLY
    if under_ca:
        items = cloud.pages(
            "list_certificates_by_ca", "certificates", caCertificateId=ca.certificate_id
        )
    else:
        items = cloud.pages("list_certificates", "certificates")
    certificates = {
        str(c["certificateId"]): CloudCertificate(
            str(c["certificateId"]), str(c.get("status", "")), str(c.get("certificateArn", ""))
        )
        for c in items
    }
    things: dict[str, tuple[str, ...] | None] = {}
    for cert in local:
        if cert.state is not LocalState.ON_BOARD or cert.thing_name in things:
            continue
        try:
            principals = list(
                cloud.pages("list_thing_principals", "principals", thingName=cert.thing_name)
            )
        except CloudCallFailed as e:
            if e.code != "ResourceNotFoundException":
                raise
            things[cert.thing_name] = None
            continue
        things[cert.thing_name] = tuple(_cert_id(str(p)) for p in principals)
    return CloudSnapshot(certificates, things, under_ca)
