"""The fingerprint of the DER inside a PEM, as `audit verify` reads it, is the one the strict
base64 decoder of the standard library gives (``base64.b64decode(validate=True)``) for any
text, a PEM's usual shape or not."""

from __future__ import annotations

import base64
import binascii
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from station.audit.verify import pem_sha256

HEAD = "-----BEGIN CERTIFICATE-----\n"
TAIL = "\n-----END CERTIFICATE-----\n"


def defined(pem: str) -> str | None:
    """The fingerprint by the strict standard decoder: the body between the markers, on
    lines, ends of line of any kind."""
    lines = [line for line in pem.strip().splitlines() if line and not line.startswith("-----")]
    try:
        return hashlib.sha256(base64.b64decode("".join(lines), validate=True)).hexdigest()
    except (binascii.Error, ValueError):
        return None


def pem_of(der: bytes) -> str:
    body = base64.b64encode(der).decode()
    return HEAD + "\n".join(body[i : i + 64] for i in range(0, len(body), 64)) + TAIL


# Base64 text with what a tampered or odd PEM may hold: padding anywhere, ends of line of
# every kind, spaces, characters outside base64 and outside ASCII.
_NOISE = st.text(alphabet=st.sampled_from(list("ABCxyz019+/=-\n\r \t!é")), max_size=40)


@settings(max_examples=300)
@given(st.binary(max_size=200), st.integers(0, 300), _NOISE)
def test_a_pem_with_anything_put_in_its_body_is_read_as_the_strict_decoder_reads_it(
    der: bytes, at: int, noise: str
) -> None:
    pem = pem_of(der)
    cut = min(len(HEAD) + at, len(pem))
    changed = pem[:cut] + noise + pem[cut:]
    assert pem_sha256(changed) == defined(changed)


@given(st.binary(max_size=200))
def test_a_well_formed_pem_gives_its_der_fingerprint(der: bytes) -> None:
    assert pem_sha256(pem_of(der)) == hashlib.sha256(der).hexdigest()


def test_an_empty_body_and_bare_padding() -> None:
    for body in ("", "=", "==", "===", "A===", "QQ=="):
        pem = HEAD + body + TAIL
        assert pem_sha256(pem) == defined(pem), body
