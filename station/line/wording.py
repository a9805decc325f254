"""What a slot card says, in words an operator acts on. Pure: a status in, text out."""

from __future__ import annotations

from station.engine.events import Step
from station.line.slot import Phase, SlotStatus
from station.phrasing import quoted

#: Three-letter step names that fit a card: HEL KEY CSR POL ISS DEL RBK PRV LCK.
STEP_SHORT = {
    Step.HELLO: "HEL",
    Step.KEYGEN: "KEY",
    Step.CSR: "CSR",
    Step.POLICY: "POL",
    Step.ISSUE: "ISS",
    Step.DELIVER: "DEL",
    Step.READBACK: "RBK",
    Step.PROVE: "PRV",
    Step.LOCK: "LCK",
}
STEPS = tuple(Step)


def step_number(step: Step) -> int:
    return STEPS.index(step) + 1


def state_line(status: SlotStatus, now: float) -> str:
    """One line: where the cycle is (or ended), and for how long."""
    elapsed = status.elapsed_at(now)
    took = "" if elapsed is None else f"{elapsed:.1f} s"
    if status.phase is Phase.RUNNING and status.step is not None:
        progress = ""
        if status.progress is not None:
            done, total = status.progress
            progress = f" {100 * done // total}%" if total else ""
        step = f"Step {step_number(status.step)}/{len(STEPS)} {status.step.name}{progress}"
        return f"{step}  {took}"
    if status.phase is Phase.PASSED:
        return f"Passed in {took}" + (f" ({status.note})" if status.note else "")
    if status.phase is Phase.ALREADY:
        return f"Checked in {took}: {status.note}"
    if status.phase is Phase.FAILED and status.failure is not None:
        return f"Failed at {status.failure.step.name} after {took}"
    if status.phase is Phase.READY:
        return "Board answered; not started"
    return "No board" if status.port else "No port"


def next_action(status: SlotStatus, *, start: str = "auto", label_scan: bool = False) -> str:
    """The operator's next action for this slot, in words."""
    phase = status.phase
    if phase is Phase.EMPTY:
        if status.port is None:
            return "No port for this slot: check its USB adapter and cable."
        return "Place a board on the slot."
    if phase is Phase.READY:
        if label_scan:
            return "Scan the board's label (L) to start."
        return "Press S to start." if start == "key" else "Starting..."
    if phase is Phase.RUNNING:
        return "Wait; do not remove the board."
    if phase is Phase.ALREADY:
        if not status.present:
            return "Board gone. Place the next board."
        return "Nothing to do: it is good. Remove it and place the next one."
    if phase is Phase.PASSED:
        if not status.present:
            return "Board gone. Place the next board."
        return "Remove the board and place the next one."
    if status.offers_reprovision:
        return "P: re-provision (asks first), or remove the board."
    if not status.present:
        return "The slot no longer answers: reseat the board, then R to retry."
    return "R: retry, or remove the board."


def slots_phrase(slots: list[str]) -> str:
    """``Slot 3 is`` / ``Slots 1, 3 are``."""
    if len(slots) == 1:
        return f"Slot {slots[0]} is"
    return f"Slots {', '.join(slots)} are"


def watch_failed(error: BaseException, delay: float) -> str:
    """The card's line while a slot's watcher that failed waits ``delay`` seconds to restart."""
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return (
        f"Looking for boards failed ({name} {quoted(error)}); retrying in {delay:g} s. "
        "If it repeats, check the jig's USB hub and cable, or restart the station."
    )
