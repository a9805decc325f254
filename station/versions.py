"""``station --version``: the station's version and the libraries a line engineer asks about
(the crypto stack above all: cryptography and the OpenSSL it runs on)."""

from __future__ import annotations

from importlib import metadata

from station import __version__

#: Distributions named by ``--version``, as pip knows them.
LIBRARIES = ("cryptography", "textual", "pyserial")


def openssl_version() -> str:
    """The OpenSSL that cryptography runs on (its own, in the wheel; or the system's)."""
    from cryptography.hazmat.backends.openssl.backend import backend

    return str(backend.openssl_version_text())


def version_lines() -> list[str]:
    """``station X``, then one ``name version`` line per library (``?`` if not installed)."""
    lines = [f"station {__version__}"]
    for name in LIBRARIES:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} ?")
    lines.append(f"OpenSSL {openssl_version().removeprefix('OpenSSL ')}")
    return lines
