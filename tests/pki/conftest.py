"""PKI test fixtures: a CA hierarchy built in process, cached keys, CSR builders, a fixed clock."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from station.pki import ca
from station.pki.keys import CaPrivateKey
from station.pki.policy import AcceptedCsr, CsrPolicy, check_csr
from station.pki.profile import DeviceProfile, ReportedIdentity
from station.pki.signer import DeviceSigner

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
# pkilint's console scripts sit beside the interpreter running the tests (the project venv).
BIN = Path(sys.executable).parent


def fixed_clock() -> datetime:
    return NOW


@dataclass(frozen=True)
class Hierarchy:
    """Root and intermediate, in memory and as PEM files for openssl and pkilint."""

    root_key: CaPrivateKey
    root: x509.Certificate
    key: CaPrivateKey
    intermediate: x509.Certificate
    root_pem: Path
    intermediate_pem: Path


def pem(obj: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return obj.public_bytes(serialization.Encoding.PEM)


def build_hierarchy(directory: Path, root_key: CaPrivateKey, key: CaPrivateKey) -> Hierarchy:
    root = ca.build_root(root_key, ca.root_name("Acme Devices"), ca.CaValidity(NOW, 9125), 0x1234)
    intermediate = ca.build_intermediate(
        root,
        root_key,
        key.public_key(),
        ca.intermediate_name("Acme Devices", "line1-st01"),
        ca.CaValidity(NOW, 5475),
        0x5678,
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root.pem").write_bytes(pem(root))
    (directory / "intermediate.pem").write_bytes(pem(intermediate))
    return Hierarchy(
        root_key, root, key, intermediate, directory / "root.pem", directory / "intermediate.pem"
    )


@pytest.fixture(scope="session")
def hierarchy(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    """Root EC P-384, intermediate EC P-256 (the defaults)."""
    return build_hierarchy(
        tmp_path_factory.mktemp("ca"),
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )


_RSA_CACHE: dict[int, rsa.RSAPrivateKey] = {}


def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per size for the whole run."""
    if bits not in _RSA_CACHE:
        _RSA_CACHE[bits] = rsa.generate_private_key(65537, bits)
    return _RSA_CACHE[bits]


def make_csr(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    cn: str | None = "board-0001",
    *,
    serial_number: str | None = None,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    """A DER CSR signed by ``key``."""
    attributes = []
    if cn is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if serial_number is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    csr = builder.sign(key, algorithm or hashes.SHA256())  # type: ignore[arg-type]
    return csr.public_bytes(serialization.Encoding.DER)


BOARD = ReportedIdentity(uid="board-0001", model="sensor", firmware="1.2.3")


def never_seen(spki_sha256: str) -> bool:
    return False


def accept(
    data: bytes, board: ReportedIdentity = BOARD, profile: DeviceProfile | None = None
) -> AcceptedCsr:
    return check_csr(
        data, board, policy=CsrPolicy(), profile=profile or DeviceProfile(), key_known=never_seen
    )


def counting_serials(start: int = 1) -> Callable[[], int]:
    counter = itertools.count(start)
    return lambda: next(counter)


@pytest.fixture
def signer(hierarchy: Hierarchy) -> DeviceSigner:
    return DeviceSigner(
        hierarchy.intermediate,
        hierarchy.key,
        DeviceProfile(organization="Acme Devices", validity_days=365),
        clock=fixed_clock,
    )


def run(args: Sequence[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)


def run_all(commands: Sequence[Sequence[str | Path]]) -> list[subprocess.CompletedProcess[str]]:
    """Run independent verifier processes concurrently (pkilint takes ~0.7 s to start)."""
    procs = [
        subprocess.Popen(
            [str(a) for a in c], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for c in commands
    ]
    results = []
    for command, proc in zip(commands, procs, strict=True):
        out, _ = proc.communicate()
        results.append(
            subprocess.CompletedProcess([str(a) for a in command], proc.returncode, out, "")
        )
    return results
