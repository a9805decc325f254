"""The chain-size bound the station checks before KEYGEN: never below the real chain, and close."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from station.pki.chain_size import chain_bound
from station.pki.profile import DeviceProfile, ReportedIdentity
from station.pki.signer import DeviceSigner

from .conftest import accept, build_hierarchy, fixed_clock, make_csr, rsa_key

KEYS = {
    "ec-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ec-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ec-p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "rsa-2048": lambda: rsa_key(2048),
    "rsa-4096": lambda: rsa_key(4096),
}


@pytest.mark.parametrize("issuer", ["ec-p256", "rsa-4096"])
@pytest.mark.parametrize("key_type", sorted(KEYS))
def test_the_bound_covers_the_real_chain(tmp_path: Path, issuer: str, key_type: str) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1()) if issuer == "ec-p256" else rsa_key(4096)
    hierarchy = build_hierarchy(tmp_path, ec.generate_private_key(ec.SECP384R1()), ca_key)
    profile = DeviceProfile(organization="A" * 64, validity_days=None)
    signer = DeviceSigner(hierarchy.intermediate, ca_key, profile, clock=fixed_clock)
    board = ReportedIdentity(uid="U" * 64)
    issued = signer.sign(accept(make_csr(KEYS[key_type](), None), board, profile))
    chain = len(issued.pem) + len(signer.issuer_pem)
    bound = chain_bound(hierarchy.intermediate, profile.subject(board), key_type)
    assert chain <= bound < chain + 100, (chain, bound)
