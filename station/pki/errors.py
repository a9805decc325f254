"""PKI errors: one base class, specific subclasses, and a policy rejection with a stable code."""

from __future__ import annotations

from station.errors import ExitCode, StationError


class PkiError(StationError):
    """A CA, key or certificate operation failed (exit code 1)."""


class WrongPassphrase(PkiError):
    """A CA key file could not be decrypted with the passphrase given."""


class KeyFileError(PkiError):
    """A key or certificate file is missing, unreadable or not what it should be."""


class CaKeyMissing(KeyFileError):
    """The CA key is not there: no key file, or no such object on the token."""


class TokenError(PkiError):
    """A PKCS#11 token could not be reached or refused an operation."""


class TokenModuleError(TokenError):
    """No PKCS#11 module is configured, or it cannot be loaded (a configuration error)."""

    exit_code = ExitCode.USAGE


class WrongPin(TokenError):
    """The token refused the PIN."""


class KeyNotExportable(PkiError, TypeError):
    """Someone asked a token-held key for its private value; the token never gives it out."""


class CaMismatch(PkiError):
    """A CA certificate does not belong to its key, or is not a proper CA certificate."""


class PolicyRejection(PkiError):
    """A CSR (or the board identity that comes with it) was refused by the policy.

    :attr:`code` is a stable, dotted identifier for audit records and tests
    (``"key.rsa_too_small"``); the message says what failed and what to do next.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
