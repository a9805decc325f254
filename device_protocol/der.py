"""A strict DER reader and the length encoding: just enough ASN.1 to fix up a board's CSR
(:mod:`device_protocol.csr_encoding`) and for a station to check a CMS signature. Pure.

Strict on purpose: definite, minimal lengths only, low tag numbers only, elements within their
container, so that any changed byte of a signature file either fails to parse or changes a value
that is then checked, and hostile DER from a board cannot make a reader run past its input.
"""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE, SET, INTEGER, OCTET_STRING, OID, NULL = 0x30, 0x31, 0x02, 0x04, 0x06, 0x05
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True)
class Tlv:
    """One DER element inside ``data``: its tag and where its header and content lie."""

    data: bytes
    tag: int
    start: int
    body: int  # first content byte
    end: int

    @property
    def value(self) -> bytes:
        return self.data[self.body : self.end]

    @property
    def raw(self) -> bytes:
        return self.data[self.start : self.end]

    def children(self) -> list[Tlv]:
        """The elements of a constructed value, which must fill it exactly."""
        if not self.tag & 0x20:
            raise DerError(f"tag {self.tag:#04x} is not constructed")
        out, pos = [], self.body
        while pos < self.end:
            child = read(self.data, pos, self.end)
            out.append(child)
            pos = child.end
        return out

    def expect(self, tag: int, what: str) -> Tlv:
        """``self``, after checking its tag."""
        if self.tag != tag:
            raise DerError(f"{what}: expected tag {tag:#04x}, found {self.tag:#04x}")
        return self


def read(data: bytes, pos: int = 0, end: int | None = None) -> Tlv:
    """The DER element starting at ``pos`` (and ending no later than ``end``)."""
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise DerError("truncated element")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not used here")
    first = data[pos + 1]
    body = pos + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError("indefinite length is not DER")
    else:
        n = first & 0x7F
        if n > 4 or body + n > end:
            raise DerError("bad length")
        length = int.from_bytes(data[body : body + n], "big")
        if data[body] == 0 or length < 0x80:
            raise DerError("non-minimal length is not DER")
        body += n
    if body + length > end:
        raise DerError("element runs past the end of its container")
    return Tlv(data, tag, pos, body, body + length)


def read_all(data: bytes) -> Tlv:
    """The one element that is all of ``data``."""
    tlv = read(data)
    if tlv.end != len(data):
        raise DerError(f"{len(data) - tlv.end} bytes after the end")
    return tlv


def encode_length(length: int) -> bytes:
    """DER (minimal) length octets for ``length``."""
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def integer(tlv: Tlv) -> int:
    """A DER INTEGER, minimally encoded."""
    value = tlv.expect(INTEGER, "integer").value
    if not value or (len(value) > 1 and value[0] in (0, 0xFF) and (value[0] ^ value[1]) < 0x80):
        raise DerError("non-minimal integer")
    return int.from_bytes(value, "big", signed=True)


def oid_der(dotted: str) -> bytes:
    """The content bytes of an OBJECT IDENTIFIER, for comparing with :func:`oid_of`."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def oid_of(tlv: Tlv) -> bytes:
    """The content bytes of an OBJECT IDENTIFIER element."""
    return tlv.expect(OID, "object identifier").value
