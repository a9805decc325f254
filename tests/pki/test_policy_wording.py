"""Every CSR policy reason reads as words for the operator: no Python (or Rust) repr."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from station.pki.errors import PolicyRejection
from station.pki.policy import CsrPolicy, check_csr
from station.pki.profile import DeviceProfile, ReportedIdentity

from .conftest import BOARD, make_csr, never_seen, rsa_key
from .test_policy import FAIL, ec_csr

#: Outside text shown in a message: double-quoted, escaped (station.phrasing.quoted); it may hold
#: anything, so the repr check looks at the rest.
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
#: What a repr looks like in a message: a tuple or list of numbers or quoted strings, a
#: single-quoted value, a set or dict, an object or class repr, a Rust debug structure.
REPR = re.compile(
    r"\((?:\d+|'[^']*'), |\[(?:\d+|'[^']*'|\"[^\"]*\")|\{(?:\d|'|\")|(?<![A-Za-z])'[^']*'"
    r"|<[A-Za-z_.]+(?: object)?|PublicKey\b|\w+ \{ \w+: "
)

Case = tuple[bytes, ReportedIdentity, CsrPolicy]
CASES: dict[str, Callable[[], Case]] = {
    **{name: (lambda b=build: (b(), BOARD, CsrPolicy())) for name, (_, build) in FAIL.items()},
    "fail/rsa-size-not-configured": lambda: (
        make_csr(rsa_key(4096)),
        BOARD,
        CsrPolicy(rsa_sizes=(2048, 3072)),
    ),
    "fail/curve-not-configured": lambda: (
        ec_csr(ec.SECP384R1()),
        BOARD,
        CsrPolicy(ec_curves=("P-256",)),
    ),
    "fail/uid-with-escape": lambda: (
        ec_csr(ec.SECP256R1(), cn=None),
        ReportedIdentity(uid="board\x1b[2J"),
        CsrPolicy(),
    ),
    "fail/thing-name": lambda: (
        ec_csr(ec.SECP256R1(), cn=None),
        ReportedIdentity(uid="board 0001"),
        CsrPolicy(),
    ),
}


def test_the_repr_pattern_finds_what_the_reasons_used_to_say() -> None:
    for old in (
        "RSA 1024 is too small (allowed sizes: (2048, 3072, 4096)); re-key the board",
        "CSR asks for CN='board-0002', but this board is 'board-0001'",
        "Ed25519PublicKey keys are not accepted by AWS IoT",
        "not a CSR (error parsing asn1 value: ParseError { kind: ShortData { needed: 1 } })",
        "is not one of ['BUSY', 'OK']",
    ):
        assert REPR.search(QUOTED.sub("", old)), old
    assert not REPR.search("the board's key generator is flawed (CVE-2017-15361, RSALib)")


@pytest.mark.parametrize(
    "case",
    # openssl makes the SHA-1 request: a process, so that case is a component test.
    [
        pytest.param(case, marks=pytest.mark.component if name == "fail/sha1-signature" else ())
        for name, case in CASES.items()
    ],
    ids=CASES.keys(),
)
def test_no_policy_reason_holds_a_python_repr(case: Callable[[], Case]) -> None:
    data, board, policy = case()
    with pytest.raises(PolicyRejection) as info:
        check_csr(data, board, policy=policy, profile=DeviceProfile(), key_known=never_seen)
    message = info.value.message
    assert not REPR.search(QUOTED.sub('""', message)), message
    assert message.isprintable(), message


def test_allowed_sizes_read_as_words() -> None:
    with pytest.raises(PolicyRejection) as info:
        check_csr(
            make_csr(rsa_key(1024)),
            BOARD,
            policy=CsrPolicy(),
            profile=DeviceProfile(),
            key_known=never_seen,
        )
    assert "allowed sizes: 2048, 3072 or 4096" in info.value.message
