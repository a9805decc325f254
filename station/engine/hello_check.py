"""The checks right after HELLO (SPEC.md 1.1): refuse a board the station cannot finish before
asking it for anything irreversible (KEYGEN), so no key is made and no certificate issued for it.

Pure: the board's HELLO answer and the station's settings in, a :class:`Refusal` or None out.
Every refusal names the limit, the board's value and what the firmware must change.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from device_protocol import messages as m
from device_protocol.limits import MIN_CHAIN_STORE, chain_store, uid_problem
from station.pki.chain_size import chain_bound
from station.pki.errors import PolicyRejection
from station.pki.profile import DeviceProfile, ReportedIdentity


@dataclass(frozen=True)
class Refusal:
    """Why the station will not provision this board; ``code`` is stable, for the audit."""

    code: str
    message: str


def pick_key_type(info: m.HelloInfo, preference: tuple[str, ...]) -> str | None:
    """The station's most preferred key type the board offers (the order of ``keys`` carries
    no meaning, SPEC.md 7.1); None when they share none."""
    return next((kt for kt in preference if kt in info.key_types), None)


def check_hello(
    info: m.HelloInfo,
    *,
    profile: DeviceProfile,
    key_preference: tuple[str, ...],
    issuer: x509.Certificate,
) -> Refusal | None:
    """The first reason the station cannot provision the board that answered ``info``."""
    problem = uid_problem(info.uid)
    if problem is not None:
        return Refusal(
            "board.uid",
            f"the board reports uid {info.uid!r}: {problem}. Its certificate's serialNumber "
            "and thing name are made from it, so this station cannot certify it (SPEC.md 7.1): "
            "fix the uid in the board's firmware, then retry; no key was generated",
        )
    board = ReportedIdentity(uid=info.uid, model=info.model, firmware=info.firmware)
    try:
        subject = profile.subject(board)
    except PolicyRejection as e:
        return Refusal(e.code, f"{e.message}; no key was generated")
    key_type = pick_key_type(info, key_preference)
    if key_type is None or info.state is m.BoardState.LOCKED:
        return None  # the cycle reports it with the station's key setting
    needed = chain_bound(issuer, subject, key_type)
    store = chain_store(info)
    if needed > store:
        said = f"HELLO says store={store}" if info.store is not None else "no store in HELLO"
        return Refusal(
            "board.chain-store",
            f"board {info.uid} can store {store} bytes of certificate chain ({said}), but "
            f"this station's chain for a {key_type} key takes up to {needed} bytes: the "
            f"firmware must provide at least {max(needed, MIN_CHAIN_STORE)} bytes of chain "
            "storage (SPEC.md 7.1); no key was generated",
        )
    return None
