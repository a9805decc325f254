"""The factory store as a source of the AWS IoT handoff: every station's certificates, one run.

:class:`StoreSource` implements :class:`station.aws.HandoffSource` over the store, so
`station aws sync --from-store` and `station aws reconcile --from-store` run the same sync,
plan, journal and reconcile code as a station over its own audit database.

What it reads. The certificates are the store's ``certificates`` rows (derived on ingest from
every station's events, with their revocations and supersessions); the PEM is the one in the
ISSUED event's canonical text, the exact text the station hashed, so what goes to AWS is
byte-identical to the station's audit (the store's ``data`` column drops the PEM).

Where the cloud steps are recorded, and why there. A fleet-level run is no station: it has no
hash chain and no audit database, and the store's ``events`` are only what stations pushed
(checked against their chains on ingest), so the run cannot append to them. Its steps go to an
append-only table of the store, ``aws_steps`` (migration 0005): one row before each cloud call
(AWS_PENDING) and one after (AWS_REGISTERED / AWS_REVOKED / AWS_FAILED), each committed before
:meth:`StoreSource.record` returns (the store connection is autocommit). The order that makes a
crash harmless is then the station's (see :mod:`station.aws.journal`): a step whose PENDING has
no outcome is repeated by the next run, and every step is safe to repeat. A rerun reads the
journal from both places: the AWS events stations recorded themselves and pushed (a station
that ran `station aws sync` on its own) come first, then the store's own rows, so a step done by
either is not done again. The reverse does not hold: a station's own sync does not read the
store, so it repeats (harmlessly: registration looks the certificate up) what a fleet run did.

Which CA. Each station has its own intermediate, registered by `station aws register-ca` on that
station, which records it; :class:`station.factory.aws_fleet.FleetCas` describes the CAs so
recorded and finds each certificate's issuer among them by key identifier (or, without one, by
name); a certificate whose CA is not registered fails its registration step with what to run
on which station, and the others go on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from psycopg.types.json import Jsonb

from station.audit import CertificateRecord, CertificateStatus, NewEvent
from station.aws.journal import CA_REGISTERED
from station.aws.source import LocalCertificate
from station.factory.errors import FactoryError
from station.factory.store import Store

_CERTIFICATES = """
SELECT c.station_id, c.serial, c.board_uid, c.sha256, c.spki_sha256, c.subject, c.status,
       d.j->>'not_before', d.j->>'not_after', d.j->>'pem'
FROM certificates c
JOIN events e ON e.station_id = c.station_id AND e.seq = c.issued_seq
CROSS JOIN LATERAL (SELECT (e.canonical::jsonb->>'data')::jsonb AS j) d
ORDER BY c.issued_at, c.station_id, c.serial
"""

#: The AWS events stations recorded themselves (pushed with their chains), then the fleet
#: run's own, each in the order it was recorded.
_STATION_STEPS = (
    "SELECT kind, code, serial, data, station_id FROM events WHERE left(kind, 4) = 'AWS_' "
    "ORDER BY station_id, seq"
)
_FLEET_STEPS = "SELECT kind, code, serial, data, station_id FROM aws_steps ORDER BY id"

_RECORD = (
    "INSERT INTO aws_steps (operator, kind, code, station_id, board_uid, serial, text, data) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


class StoreSource:
    """Every certificate of the fleet, from the factory store, as a handoff source."""

    def __init__(self, store: Store, operator: str | None = None) -> None:
        self.store = store
        self.operator = operator
        self._stations: dict[str, str] = {}  # certificate id: the station that issued it
        self._lock = threading.Lock()

    def records(self) -> Iterator[tuple[str, CertificateRecord]]:
        """Every certificate in the store with the station that issued it, oldest first."""
        for row in self.store.rows(_CERTIFICATES):
            station, serial, board, sha256, spki, subject, status, nb, na, pem = row
            if not pem:
                raise FactoryError(
                    f"certificate {serial} of station {station} has no PEM in its ISSUED event "
                    f"in {self.store.where}; run `station factory verify` and report the store"
                )
            yield (
                str(station),
                CertificateRecord(
                    serial=str(serial),
                    board_uid=str(board),
                    sha256=str(sha256),
                    spki_sha256=str(spki),
                    subject=str(subject),
                    not_before=str(nb),
                    not_after=str(na),
                    pem=str(pem),
                    status=CertificateStatus(str(status)),
                ),
            )

    def certificates(self) -> Iterator[LocalCertificate]:
        for station, record in self.records():
            with self._lock:
                self._stations[record.sha256] = station
            yield LocalCertificate.from_record(record)

    def station_of(self, certificate_id: str) -> str | None:
        """The station that issued a certificate seen by :meth:`certificates`."""
        with self._lock:
            return self._stations.get(certificate_id)

    def cloud_events(self) -> Iterator[Mapping[str, Any]]:
        for sql in (_STATION_STEPS, _FLEET_STEPS):
            for kind, code, serial, data, station in self.store.rows(sql):
                yield {
                    "kind": kind,
                    "code": code,
                    "serial": serial,
                    "data": data,
                    "station_id": station,
                }

    def recorded_ca_modes(self) -> dict[str, str]:
        """The CA mode each station's register-ca recorded, by the CA's AWS certificate id."""
        modes = {}
        for event in self.cloud_events():
            data = event["data"] or {}
            if event["kind"] == CA_REGISTERED and data.get("mode"):
                modes[str(data.get("certificate_id"))] = str(data["mode"])
        return modes

    def record(self, event: NewEvent) -> None:
        certificate_id = str(event.data.get("certificate_id", ""))
        self.store.rows(
            _RECORD + " RETURNING id",
            (
                self.operator,
                event.kind,
                event.code,
                self.station_of(certificate_id),
                event.board_uid,
                event.serial,
                event.text,
                Jsonb(dict(event.data)),
            ),
        )
