"""RFC 7512 ``pkcs11:`` URIs: parse, check and print. Pure.

A URI names a token and an object on it: ``pkcs11:token=station;object=intermediate``. Path
attributes (before ``?``, separated by ``;``) identify; query attributes (after ``?``, separated
by ``&``) say how to reach it (``module-path``). Values are percent-decoded; ``id`` is raw bytes
(``id=%01%a2``). The station refuses ``pin-value`` and ``pin-source``: the PIN comes from
``STATION_PKCS11_PIN`` or a prompt, never from a file that is easy to copy or from argv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

SCHEME = "pkcs11:"

#: Path attributes defined by RFC 7512 section 2.3.
PATH_ATTRIBUTES = (
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "object",
    "type",
    "id",
    "slot-manufacturer",
    "slot-description",
    "slot-id",
)
#: Query attributes defined by RFC 7512 section 2.3.
QUERY_ATTRIBUTES = ("pin-source", "pin-value", "module-name", "module-path")
OBJECT_TYPES = ("public", "private", "cert", "secret-key", "data")
#: Characters RFC 7512 lets a value carry unencoded (pk11-pchar / pk11-qchar, minus '&' / ';').
_PATH_SAFE = "-._~:[]@!$'()*+,=&"
_QUERY_SAFE = "-._~:[]@!$'()*+,=/?|"


class UriError(ValueError):
    """A ``pkcs11:`` URI is malformed or asks for something the station refuses."""


@dataclass(frozen=True)
class Pkcs11Uri:
    """A parsed URI. ``path`` and ``query`` map attribute names to decoded bytes."""

    path: dict[str, bytes] = field(default_factory=dict)
    query: dict[str, bytes] = field(default_factory=dict)

    def _text(self, name: str, part: dict[str, bytes]) -> str | None:
        value = part.get(name)
        return None if value is None else value.decode("utf-8", errors="replace")

    @property
    def token(self) -> str | None:
        """The token label (CKA_LABEL of the token), if given."""
        return self._text("token", self.path)

    @property
    def object(self) -> str | None:
        """The object label (CKA_LABEL), if given."""
        return self._text("object", self.path)

    @property
    def id(self) -> bytes | None:
        """The object id (CKA_ID) as raw bytes, if given."""
        return self.path.get("id")

    @property
    def type(self) -> str | None:
        return self._text("type", self.path)

    @property
    def serial(self) -> str | None:
        """The token serial number, if given."""
        return self._text("serial", self.path)

    @property
    def slot_id(self) -> int | None:
        value = self._text("slot-id", self.path)
        return None if value is None else int(value)

    @property
    def module_path(self) -> str | None:
        """The PKCS#11 module (shared library) to load, if the URI names one."""
        return self._text("module-path", self.query)

    def describe(self) -> str:
        """A short label for messages: ``object 'intermediate' on token 'station'``."""
        what = f"object {self.object!r}" if self.object is not None else "object"
        if self.id is not None:
            what += f" id {self.id.hex()}"
        return f"{what} on token {self.token!r}" if self.token is not None else what

    def __str__(self) -> str:
        path = ";".join(f"{k}={quote(v, safe=_PATH_SAFE)}" for k, v in self.path.items())
        query = "&".join(f"{k}={quote(v, safe=_QUERY_SAFE)}" for k, v in self.query.items())
        return SCHEME + path + (f"?{query}" if query else "")


def is_pkcs11_uri(text: str) -> bool:
    """True when ``text`` starts with the ``pkcs11:`` scheme (case-insensitive)."""
    return text[: len(SCHEME)].lower() == SCHEME


def _attributes(part: str, sep: str, known: tuple[str, ...], where: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if not part:
        return out
    for item in part.split(sep):
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UriError(f"{where} attribute {item!r} is not name=value")
        if name not in known and not name.startswith("x-"):
            raise UriError(f"unknown {where} attribute {name!r}; RFC 7512 knows {', '.join(known)}")
        if name in out and where == "path":
            raise UriError(f"path attribute {name!r} appears twice")
        if "%" in value and not _well_encoded(value):
            raise UriError(f"{where} attribute {name!r} has a bad percent-encoding: {value!r}")
        out[name] = unquote_to_bytes(value)
    return out


def _well_encoded(value: str) -> bool:
    pieces = value.split("%")[1:]
    hexdigits = "0123456789abcdefABCDEF"
    return all(len(p) >= 2 and p[0] in hexdigits and p[1] in hexdigits for p in pieces)


def parse_uri(text: str) -> Pkcs11Uri:
    """Parse a ``pkcs11:`` URI (RFC 7512), checking attribute names, duplicates, encoding.

    Raises :class:`UriError` with what is wrong; PINs inside the URI are refused.
    """
    if not is_pkcs11_uri(text):
        raise UriError(f"{text!r} is not a pkcs11: URI")
    body = text[len(SCHEME) :]
    path_part, _, query_part = body.partition("?")
    path = _attributes(path_part, ";", PATH_ATTRIBUTES, "path")
    query = _attributes(query_part, "&", QUERY_ATTRIBUTES, "query")
    if "pin-value" in query or "pin-source" in query:
        raise UriError(
            "the URI carries a PIN (pin-value/pin-source); remove it and set STATION_PKCS11_PIN "
            "or type the PIN when asked"
        )
    uri = Pkcs11Uri(path, query)
    if uri.type is not None and uri.type not in OBJECT_TYPES:
        raise UriError(f"type={uri.type!r} is not one of {', '.join(OBJECT_TYPES)}")
    if "slot-id" in path and not path["slot-id"].isdigit():
        raise UriError(f"slot-id={uri._text('slot-id', path)!r} is not a decimal number")
    return uri


def parse_key_uri(text: str) -> Pkcs11Uri:
    """Parse a URI that must name one private key: an ``object`` or ``id``, type private."""
    uri = parse_uri(text)
    if uri.object is None and uri.id is None:
        raise UriError(f"{text!r} names no key: add object=LABEL (or id=%..) to the URI")
    if uri.type not in (None, "private"):
        raise UriError(f"{text!r} names a {uri.type} object; a CA key URI needs type=private")
    return uri
