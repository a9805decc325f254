"""One logged-in PKCS#11 session on the token that holds a CA key (python-pkcs11 underneath).

The session is shared by the engine's slot threads under a lock (PKCS#11 sessions must not run
two operations at once). When the token connection is lost (session handle invalid, device
removed, ...) the session is re-opened once and the operation retried. Every PKCS#11 failure
leaves this module as a :class:`~station.pki.errors.TokenError` that says what to do.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pkcs11
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from station.pki.errors import CaKeyMissing, TokenError, TokenModuleError, WrongPin
from station.pki.pkcs11_uri import Pkcs11Uri

MODULE_ENV = "STATION_PKCS11_MODULE"
PIN_ENV = "STATION_PKCS11_PIN"

T = TypeVar("T")

#: Errors after which the session is re-opened once and the operation retried.
LOST_CONNECTION: tuple[type[Exception], ...] = (
    p11e.SessionHandleInvalid,
    p11e.SessionClosed,
    p11e.DeviceRemoved,
    p11e.DeviceError,
    p11e.TokenNotPresent,
    p11e.UserNotLoggedIn,
)


def load_module(path: str) -> Any:
    """Load (once per process) the PKCS#11 module at ``path``."""
    if not path:
        raise TokenModuleError(
            "no PKCS#11 module given: add ?module-path=/path/to/module.so to the key URI, set "
            f"[ca] pkcs11_module in station.toml, or set {MODULE_ENV}"
        )
    if not Path(path).is_file():
        raise TokenModuleError(
            f"PKCS#11 module {path} not found: install the token's library or fix the module "
            f"path (URI module-path, [ca] pkcs11_module or {MODULE_ENV})"
        )
    try:
        return pkcs11.lib(path)
    except p11e.PKCS11Error as e:
        raise TokenModuleError(f"cannot load PKCS#11 module {path}: {e or type(e).__name__}") from e


def find_token(lib: Any, uri: Pkcs11Uri) -> pkcs11.Token:
    """The one token in ``lib`` that matches the URI's token label / serial / slot-id."""
    found: list[pkcs11.Token] = []
    seen: list[str] = []
    for slot in lib.get_slots(token_present=True):
        token = slot.get_token()
        seen.append(repr(token.label))
        if uri.token is not None and token.label != uri.token:
            continue
        if uri.serial is not None and token.serial.decode(errors="replace").strip() != uri.serial:
            continue
        if uri.slot_id is not None and slot.slot_id != uri.slot_id:
            continue
        found.append(token)
    if not found:
        present = ", ".join(seen) or "none"
        raise TokenError(
            f"no token {uri.token!r} in PKCS#11 module {lib.so} (tokens present: {present}); "
            "initialise it or fix token= in the key URI"
        )
    if len(found) > 1:
        raise TokenError(f"{len(found)} tokens match {uri}; add serial= or slot-id= to the URI")
    return found[0]


def _key_template(uri: Pkcs11Uri, object_class: ObjectClass) -> dict[Attribute, Any]:
    attrs: dict[Attribute, Any] = {Attribute.CLASS: object_class}
    if uri.object is not None:
        attrs[Attribute.LABEL] = uri.object
    if uri.id is not None:
        attrs[Attribute.ID] = uri.id
    return attrs


def find_objects(session: pkcs11.Session, uri: Pkcs11Uri, cls: ObjectClass) -> list[Any]:
    """Every object of class ``cls`` that the URI's object label and id match."""
    return list(session.get_objects(_key_template(uri, cls)))


class TokenSession:
    """A session logged in as the user, with the private key the URI names.

    ``mechanisms`` is what the token's slot offers; signers choose by it.
    """

    def __init__(self, module: str, uri: Pkcs11Uri, pin: str, *, rw: bool = False) -> None:
        self.uri = uri
        self._lib = load_module(module)
        self._pin = pin
        self._rw = rw
        self._lock = threading.Lock()
        self._session: pkcs11.Session | None = None
        self._token: pkcs11.Token
        self._key: Any = None
        self.reopened = 0
        self._open()
        self.mechanisms: frozenset[Mechanism] = frozenset(self._token.slot.get_mechanisms())

    @property
    def label(self) -> str:
        """``token 'station'``: for messages."""
        return f"token {self._token.label!r}"

    def _open(self) -> None:
        self._token = find_token(self._lib, self.uri)
        try:
            self._session = self._token.open(rw=self._rw, user_pin=self._pin)
        except p11e.UserAlreadyLoggedIn:
            # Login state is per process and token: another session of ours has logged in.
            self._session = self._token.open(rw=self._rw)
        except (p11e.PinIncorrect, p11e.PinLenRange, p11e.PinInvalid) as e:
            raise WrongPin(
                f"wrong PIN for token {self._token.label!r} (check {PIN_ENV} or what you typed)"
            ) from e
        except p11e.PinLocked as e:
            raise WrongPin(
                f"the user PIN of token {self._token.label!r} is locked; its security officer "
                "must reset it"
            ) from e
        except p11e.PKCS11Error as e:
            raise TokenError(f"cannot log in to token {self._token.label!r}: {_name(e)}") from e
        self._key = None

    def private_key(self) -> Any:
        """The private key object the URI names (looked up once per session)."""
        if self._key is None:
            assert self._session is not None
            keys = find_objects(self._session, self.uri, ObjectClass.PRIVATE_KEY)
            if not keys:
                raise CaKeyMissing(
                    f"no private key {self.uri.describe()}: create it with `station ca "
                    "create-intermediate --pkcs11 URI`, or fix [ca] intermediate_key"
                )
            if len(keys) > 1:
                raise TokenError(
                    f"{len(keys)} private keys match {self.uri}; add id= to the URI to pick one"
                )
            self._key = keys[0]
        return self._key

    def run(self, what: str, op: Callable[[pkcs11.Session], T]) -> T:
        """Run ``op`` on the session under the lock; re-open once if the connection was lost."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._session is None:
                        self._open()
                    assert self._session is not None
                    return op(self._session)
                except LOST_CONNECTION as e:
                    if attempt == 2:
                        raise TokenError(
                            f"{self.label}: {what} failed twice, the connection was lost "
                            f"({_name(e)}); check the token is plugged in and its service runs"
                        ) from e
                    self._reopen()
                except p11e.PKCS11Error as e:
                    raise TokenError(f"{self.label}: {what} failed: {_name(e)}") from e
        raise AssertionError("unreachable")

    def sign(self, mechanism: Mechanism, data: bytes) -> bytes:
        """Sign ``data`` with the private key using ``mechanism`` (thread-safe)."""
        return self.run(
            f"signing with {mechanism.name}",
            lambda _s: bytes(self.private_key().sign(data, mechanism=mechanism)),
        )

    def _reopen(self) -> None:
        self.reopened += 1
        old, self._session = self._session, None
        if old is not None:
            with contextlib.suppress(p11e.PKCS11Error):  # the handle is gone already
                old.close()
        try:
            self._open()
        except (TokenError, p11e.PKCS11Error):
            try:
                self._lib.reinitialize()  # e.g. a token that was unplugged and plugged back in
                self._open()
            except p11e.PKCS11Error as e:
                raise TokenError(
                    f"lost the connection to {self.uri.describe()} and could not re-open it "
                    f"({_name(e)}); check the token and its PKCS#11 service"
                ) from e

    def close(self) -> None:
        """Log out and close the session (best effort)."""
        with self._lock:
            if self._session is not None:
                with contextlib.suppress(p11e.PKCS11Error):
                    self._session.close()
                self._session = None


def _name(e: Exception) -> str:
    text = str(e)
    return f"{type(e).__name__} ({text})" if text else type(e).__name__
