"""Turn whatever stopped a cycle into a failure class and a message an operator can act on.

Pure: an exception, the step and the slot in; a :class:`CycleFailure` out.
"""

from __future__ import annotations

from dataclasses import replace

from device_protocol.errors import DeviceError, Disconnected, ProtocolError, Timeout
from device_protocol.messages import Status
from station.disk import DiskSpaceError
from station.engine.events import CycleFailure, FailureKind, Step
from station.engine.reservation import ReservationRefused
from station.errors import StationError
from station.pki.errors import PolicyRejection


class IdentityMismatch(StationError):
    """The board is not the one expected (label cross-check, or already provisioned)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BoardRefused(StationError):
    """Right after HELLO: the board breaks a limit of SPEC.md the station needs (its uid, its
    chain storage); refused before KEYGEN."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ReadbackMismatch(StationError):
    """The chain read back, or the proof of possession, does not match what was issued."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_BOARD_ADVICE = {
    Status.STORAGE_FAILED: "its flash write failed: set the board aside for repair",
    Status.KEYGEN_FAILED: "it could not make a key pair: set the board aside for repair",
    Status.LOCKED: "it is locked: it was provisioned before; erase it before re-provisioning",
    Status.UNSUPPORTED_KEY: "it does not support the key type: check the jig's key setting",
    Status.DIGEST_MISMATCH: "the chain arrived damaged: retry; if it repeats, check the cable",
    Status.TOO_LARGE: "the certificate chain is larger than the board's chain storage: retrying "
    "will not help; report the board's firmware version to the firmware team (SPEC.md 7.1 store)",
}


#: Longest operator message kept; the rest of a board's text is cut (it is in the log).
MAX_MESSAGE_CHARS = 500


def one_line(text: str) -> str:
    """``text`` as one printable line: a board's own words (its ERR text, its key list) may
    hold newlines, escape sequences or bidi overrides that must not reach a screen or a log
    line as they are; they are shown escaped (``\\n``, ``\\x1b``, ``\\u202e``)."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(out) > MAX_MESSAGE_CHARS:
        out = out[: MAX_MESSAGE_CHARS - 1] + "\u2026"
    return out


def classify(error: BaseException, step: Step, slot: str) -> CycleFailure:
    """The failure class, a stable code and the operator's message for ``error``."""
    failure = _classify(error, step, slot)
    return replace(failure, code=one_line(failure.code), message=one_line(failure.message))


def _classify(error: BaseException, step: Step, slot: str) -> CycleFailure:
    where = f"Board on slot {slot}"
    name = step.name
    if isinstance(error, Timeout):
        if "not one valid frame" in error.detail:
            return CycleFailure(
                FailureKind.NOT_RESPONDING,
                step,
                f"garbled.{name}",
                f"{where} sends only garbage during {name} ({error.detail}).",
            )
        return CycleFailure(
            FailureKind.NOT_RESPONDING,
            step,
            f"not-responding.{name}",
            f"{where} stopped answering during {name}: reseat it and retry.",
        )
    if isinstance(error, Disconnected):
        gone = (
            f"left the line while answering {error.request} ({error.reason})"
            if error.request
            else f"dropped off the line during {name} ({error.detail})"
        )
        return CycleFailure(
            FailureKind.NOT_RESPONDING,
            step,
            f"disconnected.{name}",
            f"{where} {gone}: reseat it and retry.",
        )
    if isinstance(error, DeviceError):
        advice = _BOARD_ADVICE.get(
            Status(error.status) if error.status in Status._value2member_map_ else Status.INTERNAL,
            "retry; if it repeats, set the board aside and report its firmware version",
        )
        return CycleFailure(
            FailureKind.BOARD_ERROR,
            step,
            f"board-error.{error.status_name}",
            f"{where} refused {error.request} during {name} ({error.status_name}: "
            f"{error.text}); {advice}.",
        )
    if isinstance(error, ProtocolError):
        return CycleFailure(
            FailureKind.PROTOCOL,
            step,
            f"protocol.{name}",
            f"{where} broke the protocol during {name} ({error.detail}): retry; if it repeats, "
            "check the board's firmware version.",
        )
    if isinstance(error, PolicyRejection):
        return CycleFailure(
            FailureKind.POLICY,
            step,
            f"policy.{error.code}",
            f"{where} sent a CSR the station refuses ({error.message}); set the board aside "
            "and report it to the firmware team.",
        )
    if isinstance(error, ReservationRefused):
        return CycleFailure(
            FailureKind.POLICY, step, error.code, f"{where} was not signed: {error}."
        )
    if isinstance(error, BoardRefused):
        return CycleFailure(FailureKind.POLICY, step, error.code, f"{where}: {error}.")
    if isinstance(error, IdentityMismatch | ReadbackMismatch):
        kind = FailureKind.IDENTITY if isinstance(error, IdentityMismatch) else FailureKind.PROTOCOL
        return CycleFailure(kind, step, error.code, f"{where}: {error}")
    if isinstance(error, DiskSpaceError):
        return CycleFailure(
            FailureKind.STATION,
            step,
            error.code,
            f"Slot {slot} stopped at {name}: {error}; a board whose cycle was interrupted "
            "resumes when it is put back.",
        )
    if isinstance(error, StationError):
        return CycleFailure(
            FailureKind.STATION,
            step,
            f"station.{type(error).__name__}",
            f"Station error on slot {slot} during {name} ({error}); call the line engineer.",
        )
    return CycleFailure(
        FailureKind.STATION,
        step,
        f"station.{type(error).__name__}",
        f"Unexpected station error on slot {slot} during {name} ({type(error).__name__}: "
        f"{error}); call the line engineer.",
    )
