"""CA key passphrases: from the environment or a hidden prompt, never from the command line."""

from __future__ import annotations

import os

import click

CA_PASSPHRASE_ENV = "STATION_CA_PASSPHRASE"  # noqa: S105 - a variable name
ROOT_PASSPHRASE_ENV = "STATION_ROOT_PASSPHRASE"  # noqa: S105 - a variable name
AUDIT_PASSPHRASE_ENV = "STATION_AUDIT_PASSPHRASE"  # noqa: S105 - a variable name


def _passphrase(env: str, what: str, new: bool) -> str:
    value = os.environ.get(env)
    if value:
        return value
    text: str = click.prompt(
        f"Passphrase for the {what} key (or set {env})",
        hide_input=True,
        confirmation_prompt=new,
        err=True,
    )
    return text


def ca_passphrase(*, new: bool = False) -> str:
    """The station intermediate key's passphrase (``STATION_CA_PASSPHRASE`` or a prompt)."""
    return _passphrase(CA_PASSPHRASE_ENV, "station intermediate CA", new)


def root_passphrase(*, new: bool = False) -> str:
    """The root CA key's passphrase (``STATION_ROOT_PASSPHRASE`` or a prompt)."""
    return _passphrase(ROOT_PASSPHRASE_ENV, "root CA", new)


def audit_passphrase() -> str:
    """The audit-signing key's passphrase: ``STATION_AUDIT_PASSPHRASE``, else the CA's."""
    return os.environ.get(AUDIT_PASSPHRASE_ENV) or ca_passphrase()
