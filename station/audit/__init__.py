"""The station's audit database: one SQLite file, hash-chained events, certificate records.

Importable without Textual or the PKI signer; the workflow writes, the signer never does.
"""

from station.audit.certificates import CertificateRecord, CertificateStatus
from station.audit.db import AuditDB
from station.audit.errors import AuditError
from station.audit.records import EventContext, NewEvent

__all__ = [
    "AuditDB",
    "AuditError",
    "CertificateRecord",
    "CertificateStatus",
    "EventContext",
    "NewEvent",
]
