"""Known-weak RSA moduli, checked with `badkeys` (maintained by Hanno Böck), offline checks only.

The checks used here need no download: ROCA (CVE-2017-15361), small prime factors, primes
shared with known broken keys (bundled with badkeys), Fermat-factorable close primes, the
0-byte pattern of rsapoly, Wiener-small private exponents and invalid exponents. badkeys'
blocklists (Debian weak keys and published private keys) need `badkeys --update-bl` and network
access; they are not used yet.
"""

from __future__ import annotations

from dataclasses import dataclass

#: badkeys check name -> (rejection code, what it means).
_CHECKS: dict[str, tuple[str, str]] = {
    "roca": ("key.roca", "has the ROCA fingerprint (CVE-2017-15361, Infineon RSALib)"),
    "smallfactors": ("key.rsa_small_factors", "has a small prime factor"),
    "sharedprimes": ("key.rsa_shared_prime", "shares a prime with known broken keys"),
    "fermat": ("key.rsa_close_primes", "has primes close enough for Fermat factoring"),
    "rsapoly": ("key.rsa_weak", "has a 0-byte pattern that allows polynomial factoring"),
    "smalld": ("key.rsa_weak", "has a small private exponent (Wiener's attack)"),
    "rsainvalid": ("key.rsa_weak", "has an invalid public exponent"),
}


@dataclass(frozen=True)
class Weakness:
    """One finding: a stable code and a description."""

    code: str
    description: str


def rsa_weaknesses(n: int, e: int) -> list[Weakness]:
    """Every known weakness of the RSA public key (n, e); empty when none is found."""
    # Imported here: badkeys loads pyOpenSSL (40 ms), which no command but one that checks an
    # RSA key needs (`station audit verify` and the like start faster without it).
    from badkeys import checkrsa  # type: ignore[import-untyped]

    results = checkrsa(n, e=e, checks=list(_CHECKS))
    return [Weakness(*_CHECKS[name]) for name in _CHECKS if name in results]
