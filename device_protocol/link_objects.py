"""Moving whole objects over a :class:`~device_protocol.link.Link`: reading the board's objects
(CSR, chain, signature: inline bytes, then READ) and writing the certificate chain (PUT_CERT,
as base64 or, to a board that announced ``caps=text``, text chunks; SPEC.md 7.3-7.7)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from device_protocol import messages as m
from device_protocol.errors import ProtocolError
from device_protocol.transfer import chunk_capacity, chunks, text_chunks

if TYPE_CHECKING:
    from device_protocol.link import Link


def read_object(link: Link, kind: m.ObjectKind, info: m.ObjectInfo, asked: str) -> bytes:
    """The object ``info`` (the answer to ``asked``) describes: its inline bytes (SPEC.md 1.3)
    and the rest by READ from there, checked against its SHA-256 as a whole."""
    data = bytearray(info.data or b"")
    while len(data) < info.total:
        chunk = link.call(m.Read(kind.value, len(data)))
        if chunk.off != len(data) or not chunk.data:
            raise ProtocolError(link.url, f"READ {kind} at {len(data)} returned {chunk.off}")
        data += chunk.data
        if len(data) > info.total:
            raise ProtocolError(link.url, f"READ {kind} returned more than {info.total} bytes")
        if link.on_progress:
            link.on_progress(f"READ {kind}", len(data), info.total)
    if hashlib.sha256(data).digest() != info.sha256:
        inline = (
            f"; its first {len(info.data)} bytes came inline in the {asked} answer, so the board "
            "sent the wrong bytes there or in the READs"
            if info.data
            else ""
        )
        raise ProtocolError(link.url, f"{kind} read back with a wrong SHA-256{inline}")
    return bytes(data)


def chain_pieces(link: Link, chain: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """How ``chain`` goes to this board: its ``(offset, piece)`` chunks, and whether as text
    (a board whose HELLO listed ``caps=text``, and an ASCII chain: PEM always is)."""
    if m.CAP_TEXT in link.caps and chain.isascii():
        return text_chunks(chain, link.mtu), True
    return chunks(chain, chunk_capacity(link.mtu, "PUT_CERT", len(chain))), False


def put_chain(link: Link, chain: bytes) -> bytes | None:
    """Write ``chain``; the board commits it atomically on the last chunk. Returns the SHA-256
    the board read back from its storage (SPEC.md 1.2), or None from a board without it."""
    if not chain:
        raise ValueError("empty certificate chain")
    ack = link.call(m.PutCertBegin(len(chain), hashlib.sha256(chain).digest()))
    if ack.next != 0:
        raise ProtocolError(link.url, f"PUT_CERT begin answered next={ack.next}, expected 0")
    pieces, text = chain_pieces(link, chain)
    for off, piece in pieces:
        ack = link.call(m.PutCertChunk(off, piece, text))
        end = off + len(piece)
        if ack.next != end:
            raise ProtocolError(link.url, f"PUT_CERT at {off}: board expects {ack.next}")
        if link.on_progress:
            link.on_progress("PUT_CERT", end, len(chain))
    if not ack.done:
        raise ProtocolError(link.url, "PUT_CERT: the board did not confirm the commit")
    return ack.stored_sha256
