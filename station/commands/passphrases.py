"""CA key secrets: passphrases and token PINs come from the environment or a hidden prompt,
never from the command line."""

from __future__ import annotations

import os

import click

from station.pki.keys import KeyRef, KeySecrets
from station.pki.pkcs11_token import MODULE_ENV, PIN_ENV
from station.pki.pkcs11_uri import Pkcs11Uri

CA_PASSPHRASE_ENV = "STATION_CA_PASSPHRASE"  # noqa: S105 - a variable name
ROOT_PASSPHRASE_ENV = "STATION_ROOT_PASSPHRASE"  # noqa: S105 - a variable name
AUDIT_PASSPHRASE_ENV = "STATION_AUDIT_PASSPHRASE"  # noqa: S105 - a variable name


def _secret(env: str, prompt: str, new: bool) -> str:
    value = os.environ.get(env)
    if value:
        return value
    text: str = click.prompt(
        f"{prompt} (or set {env})", hide_input=True, confirmation_prompt=new, err=True
    )
    return text


def ca_passphrase(*, new: bool = False) -> str:
    """The station intermediate key's passphrase (``STATION_CA_PASSPHRASE`` or a prompt)."""
    return _secret(CA_PASSPHRASE_ENV, "Passphrase for the station intermediate CA key", new)


def root_passphrase(*, new: bool = False) -> str:
    """The root CA key's passphrase (``STATION_ROOT_PASSPHRASE`` or a prompt)."""
    return _secret(ROOT_PASSPHRASE_ENV, "Passphrase for the root CA key", new)


def audit_passphrase() -> str:
    """The audit-signing key's passphrase: ``STATION_AUDIT_PASSPHRASE``, else the CA's
    (``STATION_CA_PASSPHRASE``), else a prompt."""
    shared = os.environ.get(AUDIT_PASSPHRASE_ENV) or os.environ.get(CA_PASSPHRASE_ENV)
    return shared or _secret(AUDIT_PASSPHRASE_ENV, "Passphrase for the audit-signing key", False)


def token_pin(uri: Pkcs11Uri) -> str:
    """The user PIN of the token holding a CA key (``STATION_PKCS11_PIN`` or a prompt)."""
    return _secret(PIN_ENV, f"User PIN of token {uri.token or '(unnamed)'}", False)


def token_module(configured: str) -> str:
    """The PKCS#11 module from station.toml, else ``STATION_PKCS11_MODULE`` (a URI's own
    module-path, when it has one, wins over both)."""
    return configured or os.environ.get(MODULE_ENV, "")


def ca_key_secrets(ref: KeyRef, configured_module: str = "", *, new: bool = False) -> KeySecrets:
    """Ask now for what opens the CA key at ``ref``: a passphrase for a file (confirmed when
    ``new``), the PIN for a token."""
    if isinstance(ref, Pkcs11Uri):
        return KeySecrets(pin=token_pin(ref), module=token_module(configured_module))
    return KeySecrets(passphrase=ca_passphrase(new=new))
