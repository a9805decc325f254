"""The station's side of protocol 1.3 (inline objects and text chunks) over our Link, for driving
a 1.3 board before device_protocol itself speaks 1.3: the same Link, retries and mtu checks, with
requests that keep an answer's inline `data` and send a chain as `text`. Each request the Link
makes is counted by name (READ by name and object)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
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


def counting_link(url: str) -> CountingLink:
    """A CountingLink on the port at url."""
    link = CountingLink.open_url(url)
    assert isinstance(link, CountingLink)
    return link


@dataclass(frozen=True)
class InlineInfo(m.ObjectInfo):
    """An object's announcement with the first bytes the board sent inline (1.3 `data`)."""

    data: bytes = b""


def inline_info(fields: Mapping[str, str]) -> InlineInfo:
    info = m.ObjectInfo.from_fields(fields)
    data = base64.b64decode(fields["data"], validate=True) if "data" in fields else b""
    return InlineInfo(info.total, info.sha256, info.alg, data)


@dataclass(frozen=True)
class GetCsr13(m.GetCsr):
    def parse_response(self, f: Mapping[str, str]) -> m.ObjectInfo:
        return inline_info(f)


@dataclass(frozen=True)
class GetCert13(m.GetCert):
    def parse_response(self, f: Mapping[str, str]) -> m.ObjectInfo:
        return inline_info(f)


@dataclass(frozen=True)
class Sign13(m.Sign):
    def parse_response(self, f: Mapping[str, str]) -> m.ObjectInfo:
        return inline_info(f)


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


def fetch(link: Link, kind: m.ObjectKind, request: m.Request[m.ObjectInfo]) -> tuple[bytes, str]:
    """The object a GET_CSR, GET_CERT or SIGN announces: its inline bytes, READ from there on,
    checked against its SHA-256; and the answer's `alg`."""
    info = link.call(request)
    assert isinstance(info, InlineInfo)
    assert len(info.data) <= info.total
    data = bytearray(info.data)
    while len(data) < info.total:
        data += link.call(m.Read(kind.value, len(data))).data
    assert hashlib.sha256(data).digest() == info.sha256, f"{kind}: wrong SHA-256"
    return bytes(data), info.alg or ""


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


def put_cert_text(link: Link, chain: bytes) -> bytes | None:
    """PUT_CERT with text chunks; the final chunk's `sha` (None without it)."""
    ack = link.call(m.PutCertBegin(len(chain), hashlib.sha256(chain).digest()))
    assert ack.next == 0
    for off, piece in text_pieces(chain, link.mtu):
        ack = link.call(PutCertText(off, piece))
        assert ack.next == off + len(piece), (off, ack)
    assert ack.done
    return ack.stored_sha256


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


def provision_1_2(link: Link) -> bytes:
    """An EC P-256 cycle as the station makes it today (READ from 0, base64 chunks); the chain."""
    link.hello()
    link.keygen("ec-p256")
    chain = issue_chain(csr_key(link.get_csr()))
    assert link.put_cert(chain) == hashlib.sha256(chain).digest()
    challenge = os.urandom(32)
    check_signature(chain, challenge, *link.sign(challenge))
    assert link.lock() == m.BoardState.LOCKED
    return chain


def provision_1_3(link: Link) -> bytes:
    """The same cycle as a 1.3 station makes it: inline objects, text chunks; the chain."""
    link.hello()
    link.keygen("ec-p256")
    csr, _ = fetch(link, m.ObjectKind.CSR, GetCsr13())
    chain = issue_chain(csr_key(csr))
    assert put_cert_text(link, chain) == hashlib.sha256(chain).digest()
    challenge = os.urandom(32)
    check_signature(chain, challenge, *fetch(link, m.ObjectKind.SIG, Sign13(challenge)))
    assert link.lock() == m.BoardState.LOCKED
    return chain
