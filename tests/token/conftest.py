"""A fresh SoftHSM2 token for this test run, and CA keys generated on it.

SoftHSM2 reads SOFTHSM2_CONF once per process, when the module is initialised, so the session
fixture sets it (and the module) in os.environ before anything loads the module; subprocesses
(`station ...`) inherit it. The PIN is passed to them through STATION_PKCS11_PIN only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from station.bench.softhsm import SoftHsm, make_softhsm
from station.pki.keys import CaPrivateKey, KeySpec
from station.pki.pkcs11_uri import parse_key_uri
from station.pki.token_keys import create_token_key

TOKEN = "station-test"
PIN = "test-user-pin"
SO_PIN = "test-so-pin-1"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    hsm = make_softhsm(tmp_path_factory.mktemp("softhsm"))
    hsm.init_token(TOKEN, PIN, SO_PIN)
    saved = {k: os.environ.get(k) for k in hsm.env()}
    os.environ.update(hsm.env())
    yield hsm
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def token_env(softhsm: SoftHsm) -> dict[str, str]:
    """Environment for `station` subprocesses that use the token."""
    return {**os.environ, **softhsm.env(), "STATION_PKCS11_PIN": PIN}


def uri(label: str) -> str:
    return f"pkcs11:token={TOKEN};object={label}"


@pytest.fixture(scope="session")
def ec_token_key(softhsm: SoftHsm) -> CaPrivateKey:
    return create_token_key(
        parse_key_uri(uri("ec-ca")), KeySpec.parse("ec-p256"), PIN, softhsm.module
    )


@pytest.fixture(scope="session")
def rsa_token_key(softhsm: SoftHsm) -> CaPrivateKey:
    return create_token_key(
        parse_key_uri(uri("rsa-ca")), KeySpec.parse("rsa-2048"), PIN, softhsm.module
    )


@pytest.fixture(params=["ec", "rsa"])
def token_key(
    request: pytest.FixtureRequest, ec_token_key: CaPrivateKey, rsa_token_key: CaPrivateKey
) -> CaPrivateKey:
    return ec_token_key if request.param == "ec" else rsa_token_key
