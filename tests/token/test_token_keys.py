"""CA keys on a real SoftHSM2 token: generated non-extractable, usable by every `cryptography`
builder the station signs with, safe across threads, and re-opened when the session is lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import pkcs7
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from station.bench.softhsm import SoftHsm
from station.pki import ca
from station.pki.crl import RevokedEntry, build_crl
from station.pki.errors import KeyNotExportable
from station.pki.keys import CaPrivateKey, KeySecrets, load_ca_key
from station.pki.pkcs11_keys import TokenEcKey, TokenRsaKey
from station.pki.pkcs11_token import TokenSession
from station.pki.pkcs11_uri import parse_key_uri
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner
from tests.pki.conftest import accept, make_csr
from tests.token.conftest import PIN, TOKEN, uri

NOW = datetime.now(UTC).replace(microsecond=0)


def session_of(key: CaPrivateKey) -> TokenSession:
    assert isinstance(key, TokenEcKey | TokenRsaKey)
    assert isinstance(key.token, TokenSession)
    return key.token


def raw_private(key: CaPrivateKey) -> pkcs11.PrivateKey:
    session = session_of(key)
    return session.run("test lookup", lambda _s: session.private_key())  # type: ignore[no-any-return]


def hierarchy(key: CaPrivateKey) -> tuple[x509.Certificate, x509.Certificate]:
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = ca.build_root(root_key, ca.root_name("Acme"), ca.CaValidity(NOW, 3650), 1)
    inter = ca.build_intermediate(
        root,
        root_key,
        key.public_key(),
        ca.intermediate_name("Acme", "t"),
        ca.CaValidity(NOW, 365),
        2,
    )
    return root, inter


def test_generated_key_is_sensitive_and_never_extractable(ec_token_key: CaPrivateKey) -> None:
    attrs = raw_private(ec_token_key).get_attributes(
        [
            Attribute.TOKEN,
            Attribute.PRIVATE,
            Attribute.SENSITIVE,
            Attribute.EXTRACTABLE,
            Attribute.ALWAYS_SENSITIVE,
            Attribute.NEVER_EXTRACTABLE,
            Attribute.SIGN,
            Attribute.DECRYPT,
            Attribute.DERIVE,
        ]
    )
    assert attrs == {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.ALWAYS_SENSITIVE: True,
        Attribute.NEVER_EXTRACTABLE: True,
        Attribute.SIGN: True,
        Attribute.DECRYPT: False,
        Attribute.DERIVE: False,
    }


def test_private_value_cannot_be_read_or_wrapped_out(token_key: CaPrivateKey) -> None:
    private = raw_private(token_key)
    value = Attribute.VALUE if private.key_type == KeyType.EC else Attribute.PRIVATE_EXPONENT
    with pytest.raises(p11e.AttributeSensitive):
        private[value]  # C_GetAttributeValue(CKA_VALUE / CKA_PRIVATE_EXPONENT)
    session = session_of(token_key)
    wrapping = session.run(
        "make a wrapping key",
        lambda s: s.generate_key(
            KeyType.AES, 256, template={Attribute.WRAP: True, Attribute.TOKEN: False}
        ),
    )
    for mechanism in (Mechanism.AES_KEY_WRAP_PAD, Mechanism.AES_KEY_WRAP):
        with pytest.raises(p11e.KeyUnextractable):
            wrapping.wrap_key(private, mechanism=mechanism)  # type: ignore[attr-defined]
    with pytest.raises(KeyNotExportable, match="cannot be exported"):
        token_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    with pytest.raises(KeyNotExportable):
        token_key.private_numbers()


def test_device_certificates_csrs_and_crls_verify(token_key: CaPrivateKey) -> None:
    _root, inter = hierarchy(token_key)
    signer = DeviceSigner(inter, token_key, DeviceProfile(organization="Acme", validity_days=30))
    issued = signer.sign(accept(make_csr(ec.generate_private_key(ec.SECP256R1()))))
    assert ca.verify_issued_by(issued.certificate, inter)
    csr = ca.build_intermediate_csr(token_key, ca.intermediate_name("Acme", "t"))
    assert csr.is_signature_valid
    crl = build_crl(
        inter,
        token_key,
        [RevokedEntry(issued.serial, NOW, "key-compromise")],
        number=1,
        this_update=NOW,
        next_update=NOW + timedelta(days=1),
    )
    assert crl.is_signature_valid(token_key.public_key())


def test_pkcs7_signature_builder_signs_through_the_token(
    token_key: CaPrivateKey, tmp_path: Path
) -> None:
    """The seam the audit export uses (detached CMS via PKCS7SignatureBuilder), checked by
    `openssl cms -verify`."""
    root, inter = hierarchy(token_key)
    data = b"manifest line 1\nmanifest line 2\n"
    p7s = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(inter, token_key, hashes.SHA256())
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "sig.p7s").write_bytes(p7s)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "inter.pem").write_bytes(inter.public_bytes(serialization.Encoding.PEM))
    import subprocess

    result = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", tmp_path / "sig.p7s", "-content", tmp_path / "data",
            "-CAfile", tmp_path / "root.pem", "-certfile", tmp_path / "inter.pem",
            "-purpose", "any", "-out", "/dev/null",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


class Restricted:
    """The real token session, offering only some of its mechanisms (forces a code path)."""

    def __init__(self, inner: TokenSession, offered: set[Mechanism]) -> None:
        self.inner = inner
        self.mechanisms = frozenset(offered)
        self.used: list[Mechanism] = []

    @property
    def label(self) -> str:
        return self.inner.label

    def sign(self, mechanism: Mechanism, data: bytes) -> bytes:
        assert mechanism in self.mechanisms
        self.used.append(mechanism)
        return self.inner.sign(mechanism, data)


class HashingShim(Restricted):
    """SoftHSM 2.6 offers no CKM_ECDSA_SHA256: this shim adds it on top of the real token's
    raw CKM_ECDSA (hashing where a hashing token would), so the on-token-hash path runs
    against a real key and its output is checked like any other signature."""

    def sign(self, mechanism: Mechanism, data: bytes) -> bytes:
        self.used.append(mechanism)
        assert mechanism == Mechanism.ECDSA_SHA256
        digest = hashes.Hash(hashes.SHA256())
        digest.update(data)
        return self.inner.sign(Mechanism.ECDSA, digest.finalize())


def test_softhsm_paths_are_raw_ecdsa_and_hashed_rsa(
    ec_token_key: CaPrivateKey, rsa_token_key: CaPrivateKey
) -> None:
    assert Mechanism.ECDSA_SHA256 not in session_of(ec_token_key).mechanisms
    assert Mechanism.ECDSA in session_of(ec_token_key).mechanisms
    assert Mechanism.SHA256_RSA_PKCS in session_of(rsa_token_key).mechanisms


@pytest.mark.parametrize(
    ("kind", "offered", "expected"),
    [
        ("ec", {Mechanism.ECDSA}, Mechanism.ECDSA),
        ("rsa", {Mechanism.SHA256_RSA_PKCS, Mechanism.RSA_PKCS}, Mechanism.SHA256_RSA_PKCS),
        ("rsa", {Mechanism.RSA_PKCS}, Mechanism.RSA_PKCS),
    ],
    ids=["ec-raw", "rsa-hashed", "rsa-raw-digest-info"],
)
def test_each_mechanism_path_makes_valid_certificates(
    ec_token_key: CaPrivateKey,
    rsa_token_key: CaPrivateKey,
    kind: str,
    offered: set[Mechanism],
    expected: Mechanism,
) -> None:
    real = ec_token_key if kind == "ec" else rsa_token_key
    token = Restricted(session_of(real), offered)
    key: CaPrivateKey = (
        TokenEcKey(token, real.public_key())  # type: ignore[arg-type]
        if kind == "ec"
        else TokenRsaKey(token, real.public_key())  # type: ignore[arg-type]
    )
    _root, inter = hierarchy(key)
    signer = DeviceSigner(inter, key, DeviceProfile(validity_days=30))
    issued = signer.sign(accept(make_csr(ec.generate_private_key(ec.SECP256R1()))))
    assert ca.verify_issued_by(issued.certificate, inter)
    assert token.used == [expected]


def test_ecdsa_sha256_path_on_a_hashing_token(ec_token_key: CaPrivateKey) -> None:
    shim = HashingShim(session_of(ec_token_key), {Mechanism.ECDSA, Mechanism.ECDSA_SHA256})
    key = TokenEcKey(shim, ec_token_key.public_key())  # type: ignore[arg-type]
    _root, inter = hierarchy(key)
    issued = DeviceSigner(inter, key, DeviceProfile(validity_days=30)).sign(
        accept(make_csr(ec.generate_private_key(ec.SECP256R1())))
    )
    assert ca.verify_issued_by(issued.certificate, inter)
    assert shim.used == [Mechanism.ECDSA_SHA256]


def test_rsa_key_refuses_pss(rsa_token_key: CaPrivateKey) -> None:
    from cryptography.exceptions import UnsupportedAlgorithm

    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH)
    assert isinstance(rsa_token_key, TokenRsaKey)
    with pytest.raises(UnsupportedAlgorithm, match=r"PKCS#1 v1\.5"):
        rsa_token_key.sign(b"x", pss, hashes.SHA256())


def test_threads_share_the_session_safely(ec_token_key: CaPrivateKey) -> None:
    assert isinstance(ec_token_key, TokenEcKey)
    public = ec_token_key.public_key()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                data = f"{n}-{i}".encode()
                sig = ec_token_key.sign(data, ec.ECDSA(hashes.SHA256()))
                public.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        except BaseException as e:  # collected and re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_lost_session_is_reopened_once_and_the_signature_retried(softhsm: SoftHsm) -> None:
    key = load_ca_key(parse_key_uri(uri("ec-ca")), KeySecrets(pin=PIN, module=softhsm.module))
    assert isinstance(key, TokenEcKey)
    session = session_of(key)
    public = key.public_key()
    # The session handle disappears under us, as when a token service restarts.
    session.run("close behind its back", lambda s: s.close())
    sig = key.sign(b"after", ec.ECDSA(hashes.SHA256()))
    public.verify(sig, b"after", ec.ECDSA(hashes.SHA256()))
    assert session.reopened == 1
    session.close()


def test_token_key_is_the_one_on_the_token(softhsm: SoftHsm, ec_token_key: CaPrivateKey) -> None:
    again = load_ca_key(
        parse_key_uri(f"pkcs11:token={TOKEN};object=ec-ca?module-path={softhsm.module}"),
        KeySecrets(pin=PIN),
    )
    assert again.public_key() == ec_token_key.public_key()
    public = session_of(again).run(
        "find public", lambda s: s.get_key(ObjectClass.PUBLIC_KEY, label="ec-ca")
    )
    assert public[Attribute.PRIVATE] is False
    session_of(again).close()


def test_module_reinitialised_under_us_is_reconnected(
    softhsm: SoftHsm, rsa_token_key: CaPrivateKey
) -> None:
    """C_Finalize + C_Initialize (a token service restart) invalidates every session."""
    key = load_ca_key(parse_key_uri(uri("rsa-ca")), KeySecrets(pin=PIN, module=softhsm.module))
    pkcs11.lib(softhsm.module).reinitialize()
    for k in (key, rsa_token_key):  # both sessions were lost; each re-opens on its own
        assert isinstance(k, TokenRsaKey)
        sig = k.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
        k.public_key().verify(sig, b"x", padding.PKCS1v15(), hashes.SHA256())
        assert session_of(k).reopened >= 1
    session_of(key).close()
