"""Mechanism choice by what the token offers, and the encodings around it. Pure."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from pkcs11 import Mechanism as M

from station.pki.errors import TokenError
from station.pki.pkcs11_mechanisms import (
    DIGEST_INFO_PREFIX,
    HASHES,
    SignPlan,
    ecdsa_plan,
    raw_ecdsa_to_der,
    rsa_plan,
)

SOFTHSM_EC = frozenset({M.ECDSA, M.EC_KEY_PAIR_GEN})
HSM_EC = frozenset({M.ECDSA, M.ECDSA_SHA256, M.ECDSA_SHA384})
RSA_BOTH = frozenset({M.RSA_PKCS, M.SHA256_RSA_PKCS, M.SHA384_RSA_PKCS})

EC_CASES = {
    "ok/hashed-on-token": (HSM_EC, "sha256", False, M.ECDSA_SHA256, False),
    "ok/sha384-on-token": (HSM_EC, "sha384", False, M.ECDSA_SHA384, False),
    "ok/sha512-not-offered-falls-back-to-raw": (HSM_EC, "sha512", False, M.ECDSA, True),
    "ok/raw-only-token": (SOFTHSM_EC, "sha256", False, M.ECDSA, True),
    "ok/prehashed-needs-raw": (HSM_EC, "sha256", True, M.ECDSA, True),
    "ok/hashed-only-token": (frozenset({M.ECDSA_SHA256}), "sha256", False, M.ECDSA_SHA256, False),
}


@pytest.mark.parametrize("case", list(EC_CASES))
def test_ecdsa_plan(case: str) -> None:
    offered, name, prehashed, mechanism, host_hash = EC_CASES[case]
    assert ecdsa_plan(offered, name, prehashed) == SignPlan(mechanism, host_hash)


RSA_CASES = {
    "ok/hashed-on-token": (RSA_BOTH, "sha256", False, M.SHA256_RSA_PKCS, False),
    "ok/raw-with-digest-info": (frozenset({M.RSA_PKCS}), "sha256", False, M.RSA_PKCS, True),
    "ok/prehashed-needs-raw": (RSA_BOTH, "sha384", True, M.RSA_PKCS, True),
    "ok/sha512-not-offered": (RSA_BOTH, "sha512", False, M.RSA_PKCS, True),
}


@pytest.mark.parametrize("case", list(RSA_CASES))
def test_rsa_plan(case: str) -> None:
    offered, name, prehashed, mechanism, host_hash = RSA_CASES[case]
    plan = rsa_plan(offered, name, prehashed)
    assert (plan.mechanism, plan.host_hash) == (mechanism, host_hash)
    assert plan.prefix == (DIGEST_INFO_PREFIX[name] if host_hash else b"")


@pytest.mark.parametrize(
    ("plan", "offered", "message"),
    [
        ("fail/ec-nothing-offered", frozenset({M.RSA_PKCS}), "neither CKM_ECDSA"),
        ("fail/ec-prehashed-hashed-only", frozenset({M.ECDSA_SHA256}), "neither CKM_ECDSA"),
        ("fail/rsa-nothing-offered", frozenset({M.ECDSA}), "neither CKM_RSA_PKCS"),
    ],
)
def test_refusals(plan: str, offered: frozenset[M], message: str) -> None:
    choose = rsa_plan if "rsa" in plan else ecdsa_plan
    with pytest.raises(TokenError, match=message):
        choose(offered, "sha256", "prehashed" in plan)


def test_sha1_is_refused() -> None:
    with pytest.raises(TokenError, match="sha1 is not supported"):
        ecdsa_plan(HSM_EC, "sha1", False)


def test_payload_hashes_on_the_host_only_when_planned() -> None:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"tbs")
    assert SignPlan(M.ECDSA_SHA256, False).payload(b"tbs", "sha256", False) == b"tbs"
    assert SignPlan(M.ECDSA, True).payload(b"tbs", "sha256", False) == digest.finalize()
    assert SignPlan(M.ECDSA, True).payload(b"d" * 32, "sha256", True) == b"d" * 32


@pytest.mark.parametrize("name", ["sha224", "sha256", "sha384", "sha512"])
def test_digest_info_prefix_matches_pkcs1(name: str) -> None:
    """A raw RSA signature over prefix+digest verifies as PKCS#1 v1.5 with that hash."""
    key = rsa.generate_private_key(65537, 2048)
    algorithm = HASHES[name]
    digest = hashes.Hash(algorithm())
    digest.update(b"message")
    block = DIGEST_INFO_PREFIX[name] + digest.finalize()
    # Textbook RSA over the EMSA-PKCS1-v1_5 encoding, as CKM_RSA_PKCS does on the token.
    k = key.key_size // 8
    em = b"\x00\x01" + b"\xff" * (k - len(block) - 3) + b"\x00" + block
    numbers = key.private_numbers()
    sig = pow(int.from_bytes(em, "big"), numbers.d, numbers.public_numbers.n).to_bytes(k, "big")
    key.public_key().verify(sig, b"message", padding.PKCS1v15(), algorithm())


def test_raw_ecdsa_to_der_round_trip() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    der = key.sign(b"x", ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    assert raw_ecdsa_to_der(raw) == der
    key.public_key().verify(raw_ecdsa_to_der(raw), b"x", ec.ECDSA(hashes.SHA384()))
    key.public_key().verify(raw_ecdsa_to_der(raw), _h(b"x"), ec.ECDSA(Prehashed(hashes.SHA384())))
    with pytest.raises(TokenError, match="malformed"):
        raw_ecdsa_to_der(b"\x01\x02\x03")


def _h(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA384())
    digest.update(data)
    return digest.finalize()
