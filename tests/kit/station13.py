"""Driving a 1.3 board from tests: our Link, counting each request it makes by name (READ by
name and object), as the station speaks today (1.3: inline objects, text chunks) or as a 1.2
station did (it knows neither `caps` nor inline `data`, and ignores both); raw PUT_CERT chunks
(`text`, or any fields) sized by the test's own arithmetic, not the Link's."""

from __future__ import annotations

import datetime
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from device_protocol import Link
from device_protocol import messages as m
from device_protocol.csr_encoding import normalise_csr_der
from device_protocol.framing import SEQ_MODULO, Frame, encode
from device_protocol.messages.envelope import Response

from .running import Agent

R = TypeVar("R")
#: Bytes a text value carries as themselves (SPEC.md 2.1 rule 3); every other one takes 3 (%XX).
PLAIN = frozenset(range(0x21, 0x7F)) - {ord("%"), ord("*"), ord("~")}


class CountingLink(Link):
    """A Link that counts the requests it makes: `READ csr`, `HELLO`, ..."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made: Counter[str] = Counter()

    def call(self, request: m.Request[R], **limits: Any) -> R:
        name = f"READ {request.obj}" if isinstance(request, m.Read) else request.NAME
        self.made[name] += 1
        return super().call(request, **limits)


class OldStationLink(CountingLink):
    """A station of protocol 1.2: what a 1.3 board adds (HELLO's `caps`, an answer's inline
    `data`) is a field it does not know, and ignores (SPEC.md 6.4)."""

    def call(self, request: m.Request[R], **limits: Any) -> R:
        answer = super().call(request, **limits)
        if isinstance(answer, m.HelloInfo):
            return replace(answer, caps=())  # type: ignore[return-value]
        if isinstance(answer, m.ObjectInfo):
            return replace(answer, data=None)  # type: ignore[return-value]
        return answer


def counting_link(url: str, *, old: bool = False) -> CountingLink:
    """A CountingLink on the port at url (an OldStationLink with ``old``)."""
    link = (OldStationLink if old else CountingLink).open_url(url)
    assert isinstance(link, CountingLink)
    return link


@dataclass(frozen=True)
class PutCertFields(m.Request[m.Accepted]):
    """A PUT_CERT chunk with whatever fields it is given (to send a malformed one)."""

    NAME: ClassVar[str] = "PUT_CERT"
    RESPONSE: ClassVar[type[Response]] = m.Accepted
    fields: tuple[tuple[str, str], ...] = ()

    def to_fields(self) -> dict[str, str]:
        return dict(self.fields)


@dataclass(frozen=True)
class PutCertText(m.Request[m.Accepted]):
    """A PUT_CERT chunk carrying its bytes as `text` (1.3)."""

    NAME: ClassVar[str] = "PUT_CERT"
    RESPONSE: ClassVar[type[Response]] = m.Accepted
    off: int = 0
    text: bytes = b""

    def to_fields(self) -> dict[str, str]:
        return {"off": str(self.off), "text": self.text.decode("ascii")}


def text_pieces(chain: bytes, mtu: int, start: int = 0) -> list[tuple[int, bytes]]:
    """The chain from start on, cut greedily so every text chunk's line fits mtu at seq 65535 and
    the largest off: 3 bytes for each byte that must be escaped, 1 for any other."""
    empty = Frame(seq=SEQ_MODULO - 1, name="PUT_CERT", fields={"off": str(len(chain)), "text": ""})
    room = mtu - len(encode(empty))
    pieces: list[tuple[int, bytes]] = []
    while start < len(chain):
        end, used = start, 0
        while end < len(chain) and used + (cost := 1 if chain[end] in PLAIN else 3) <= room:
            used += cost
            end += 1
        pieces.append((start, chain[start:end]))
        start = end
    return pieces


def issue_chain(public_key: CertificatePublicKeyTypes) -> bytes:
    """A PEM chain for public_key: a device certificate from a throwaway CA, then the CA's own."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Intermediate CA")])
    now = datetime.datetime.now(datetime.UTC)

    def cert(name: x509.Name, key: CertificatePublicKeyTypes, ca: bool) -> bytes:
        built = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(ca_name)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        return built.public_bytes(Encoding.PEM)

    board = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "board")])
    return cert(board, public_key, False) + cert(ca_name, ca_key.public_key(), True)


def csr_key(der: bytes) -> CertificatePublicKeyTypes:
    """The public key of a board's CSR (mbedTLS's NULL parameter normalised first)."""
    return x509.load_der_x509_csr(normalise_csr_der(der)[0]).public_key()


def check_signature(chain: bytes, challenge: bytes, signature: bytes, alg: str) -> None:
    """The board's SIGN answer verifies with its certificate's EC key."""
    assert alg == "ecdsa-sha256"
    key = x509.load_pem_x509_certificates(chain)[0].public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, challenge, ec.ECDSA(hashes.SHA256()))


def provision(link: Link) -> bytes:
    """An EC P-256 cycle over ``link`` (a station's Link, or a 1.2 station's); the chain."""
    link.hello()
    link.keygen("ec-p256")
    chain = issue_chain(csr_key(link.get_csr()))
    assert link.put_cert(chain) == hashlib.sha256(chain).digest()
    challenge = os.urandom(32)
    check_signature(chain, challenge, *link.sign(challenge))
    assert link.lock() == m.BoardState.LOCKED
    return chain


def old_and_new(old_board: Agent, new_board: Agent) -> tuple[Counter[str], Counter[str]]:
    """Provision ``old_board`` as a 1.2 station does and ``new_board`` with the station's own
    Link; each stores the chain sent, and the 1.3 cycle takes fewer requests: no READ of the
    signature, at most one of the CSR. The requests each made, by name (old, new)."""
    old, new = counting_link(old_board.url, old=True), counting_link(new_board.url)
    with old:
        assert provision(old) == (old_board.state / "chain.pem").read_bytes()
    with new:
        assert provision(new) == (new_board.state / "chain.pem").read_bytes()
    assert (new.made["READ sig"], old.made["READ sig"]) == (0, 1)
    assert new.made["READ csr"] <= 1 < old.made["READ csr"]
    assert new.made["PUT_CERT"] < old.made["PUT_CERT"]
    assert new.made.total() < old.made.total(), (dict(new.made), dict(old.made))
    return old.made, new.made
