"""The C reference agent (device_protocol/agent) against the real station: conformance,
provisioning, QA, and the certificates it ends up with checked by openssl and pkilint."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from device_protocol import Link
from device_protocol.csr_encoding import normalise_csr_der
from station.engine.cycle import Cycle, CycleOptions
from station.engine.station import StationContext
from tests.engine.conftest import ENV
from tests.verifiers import openssl_verify, pkilint

from .conftest import ROOT
from .running import Agent

StartAgent = Callable[..., Agent]
SOURCES = sorted((ROOT / "device_protocol" / "agent").glob("*.c"))


def station_cli(home: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    prefix = ["--home", str(home)] if home else []
    return subprocess.run(
        [sys.executable, "-m", "station", *prefix, *args],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


def test_builds_warning_free_as_c99(agent_binary: Path, tmp_path: Path) -> None:
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
    out = tmp_path / "agent"
    done = subprocess.run(
        [
            "gcc",
            *flags,
            "-o",
            str(out),
            *map(str, SOURCES),
            "-lmbedx509",
            "-lmbedtls",
            "-lmbedcrypto",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert agent_binary.exists()


def test_passes_the_conformance_suite(start_agent: StartAgent) -> None:
    agent = start_agent()
    done = station_cli(None, "conformance", "--port", agent.url, "--json")
    report = json.loads(done.stdout)
    failed = [(c["name"], c["detail"]) for c in report["cases"] if not c["passed"]]
    assert not failed
    assert done.returncode == 0
    cases = {c["name"]: c["detail"] for c in report["cases"]}
    # fault handling: every damaged line got a NAK and none was acted on; replays were answered
    # from the cache (a re-executed GET_CSR would carry a new ECDSA signature)
    assert "6 NAK, 0 unanswered, none acted on" in cases["bad-crc"]
    assert "not NAKed" in cases["framing"]
    assert "ran afresh (BAD_STATE)" in cases["hello-clears-cache"]
    # bauds (1.2) and caps (1.3) counted
    assert cases["hello-fits"] == "HELLO takes at most 163 bytes <= mtu 256"
    # protocol 1.2: the rate switch and the digest of the stored chain, each really exercised
    assert cases["baud-switch"].startswith("BAUD 921600: proved and confirmed, held past probation")
    assert cases["baud-fallback"].startswith("unconfirmed BAUD 921600: back at 115200")
    assert cases["stored-digest"].startswith("final chunk sha = SHA-256 of the chain sent")
    # protocol 1.3: real findings, not "nothing to check"
    assert "GET_CSR: 111 of " in cases["inline-objects"]
    assert "each equals READ from offset 0" in cases["inline-objects"]
    assert "stored byte for byte" in cases["text-chunks"]
    assert "identical answers" in cases["replay"]
    assert "<= mtu 256" in cases["line-length"]
    assert agent.stop() == 0  # SIGTERM: a clean exit


def test_state_survives_a_restart(start_agent: StartAgent) -> None:
    first = start_agent("persist")
    with Link.open_url(first.url) as link:
        link.hello()
        link.keygen("ec-p256")
        csr = link.get_csr()
    assert first.stop() == 0
    again = start_agent("persist")
    with Link.open_url(again.url) as link:
        info = link.hello()
        assert (info.state.value, info.key_type) == ("keyed", "ec-p256")
        assert spki(link.get_csr()) == spki(csr)


def spki(der: bytes) -> bytes:
    key = x509.load_der_x509_csr(normalise_csr_der(der)[0]).public_key()
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def openssl_and_pkilint(home: Path, chain: bytes, tmp_path: Path) -> None:
    verify = openssl_verify(home, chain, tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert ": OK" in verify.stdout
    lint = pkilint(tmp_path / "leaf.pem")
    assert (lint.returncode, lint.stdout.strip()) == (0, ""), lint.stdout


def test_provisions_to_pass_and_passes_qa(
    start_agent: StartAgent, home: Path, tmp_path: Path
) -> None:
    agent = start_agent()
    done = station_cli(home, "provision", "--operator", "op-9", "--json", "--port", agent.url)
    assert done.returncode == 0, done.stdout + done.stderr
    record: dict[str, Any] = json.loads(done.stdout.splitlines()[0])
    assert record["passed"] is True
    chain = (agent.state / "chain.pem").read_bytes()
    openssl_and_pkilint(home, chain, tmp_path)
    qa = station_cli(home, "qa", "verify", "--port", agent.url, "--json", "--operator", "qa-1")
    assert qa.returncode == 0, qa.stdout + qa.stderr
    assert json.loads(qa.stdout)["passed"] is True


@pytest.mark.parametrize("key_type", ["ec-p384", "rsa-2048"])
def test_other_key_types_provision(
    station: StationContext, start_agent: StartAgent, home: Path, tmp_path: Path, key_type: str
) -> None:
    agent = start_agent()
    context = dataclasses.replace(station, key_preference=(key_type,))
    result = Cycle(context, "1", agent.url, CycleOptions(operator="op-1")).run()
    assert result.passed, result.failure
    openssl_and_pkilint(home, (agent.state / "chain.pem").read_bytes(), tmp_path)


def test_mbedtls_csr_carries_the_null_parameter_and_the_policy_accepts_it(
    start_agent: StartAgent,
) -> None:
    agent = start_agent()
    with Link.open_url(agent.url) as link:
        link.hello()
        link.keygen("ec-p256")
        der = link.get_csr()
    # outer signatureAlgorithm: SEQUENCE { ecdsa-with-SHA256, NULL } as mbedTLS 2.x writes it
    assert bytes.fromhex("300c06082a8648ce3d0403020500") in der
    fixed, normalised = normalise_csr_der(der)
    assert normalised
    assert x509.load_der_x509_csr(fixed).is_signature_valid
