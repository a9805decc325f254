"""The conformance cases for SPEC.md 1.1's limits on what a board states in HELLO: a station
checks each right after HELLO and refuses the board before KEYGEN, so the suite fails it too."""

from __future__ import annotations

from device_protocol.conformance.session import CaseFailed, Session
from device_protocol.limits import (
    MIN_CHAIN_STORE,
    UID_CHARACTERS,
    chain_store,
    uid_problem,
    worst_case_hello,
)


def hello_fits(s: Session) -> str:
    """The HELLO answer fits the mtu in every state, not only in the one it is in now."""
    info = s.info()
    worst = worst_case_hello(info)
    if worst > info.mtu:
        raise CaseFailed(
            f"the HELLO answer can take {worst} bytes (seq 65535, state=certified, the longest "
            f"kt), over mtu {info.mtu} (SPEC.md 7.1): shorten fw and model, leave out store "
            "if the board has only the minimum, or state a larger mtu"
        )
    return f"HELLO takes at most {worst} bytes <= mtu {info.mtu}"


def uid(s: Session) -> str:
    problem = uid_problem(s.info().uid)
    if problem is not None:
        raise CaseFailed(
            f"uid {s.info().uid!r}: {problem} (SPEC.md 7.1); a station cannot certify this id "
            "and refuses the board before KEYGEN"
        )
    return f"uid {s.info().uid} is 1-64 of {UID_CHARACTERS}"


def chain_storage(s: Session) -> str:
    info = s.info()
    store = chain_store(info)
    if store < MIN_CHAIN_STORE:
        raise CaseFailed(
            f"HELLO says store={store}, below the minimum of {MIN_CHAIN_STORE} bytes of chain "
            "storage (SPEC.md 7.1); a station refuses the board before KEYGEN"
        )
    said = f"store={store}" if info.store is not None else "no store (the minimum)"
    return f"HELLO says {said}: room for {store} bytes of chain"


__all__ = ["chain_storage", "hello_fits", "uid"]
