"""Audit database errors."""

from __future__ import annotations

from station.errors import StationError


class AuditError(StationError):
    """The audit database cannot be opened, migrated or written."""


class KeyAlreadyRecorded(AuditError):
    """A certificate for the same public key is already in the database."""


class UnknownCertificate(AuditError):
    """No certificate with that serial was issued by this station."""


class AlreadyRevoked(AuditError):
    """The certificate is revoked already."""


class UnstorableEvent(AuditError):
    """An event holds a value the database cannot store and give back unchanged (text that is
    not valid Unicode, data that is not JSON, a number out of range). Nothing was written."""
