"""The key reservation a cycle makes before signing, over the factory store.

``required``: a key the store did not reserve for this station is not signed (the store
refused it, or could not be asked). ``best-effort``: the store is asked when it answers;
signing goes on in any case (as the issue has it), and a refusal stays recorded in the store as
a conflict, listed by `station factory conflicts` and found again by the next sync. After a
failed attempt, best-effort waits ``retry_after`` seconds before asking again, so a store that
is down costs the line one connect timeout, not one per board.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from station.engine.reservation import ReservationRefused
from station.factory.errors import FactoryError
from station.factory.store import Reservation, Store
from station.factory_config import FactorySection, ReserveMode

_ADVICE = {
    "key-taken": "the board must generate a fresh key; if it repeats, set the board aside and "
    "report it (its key generator may be broken)",
    "board-elsewhere": "revoke that certificate on its station first if this board is to be "
    "re-provisioned here, or check the board's label",
    "diverged": "the store marked this station diverged: call the supervisor "
    "(`station factory resolve`)",
}


def refusal_text(answer: Reservation, spki_sha256: str, board_uid: str) -> str:
    """Why the store refused, in the operator's words. Pure."""
    if answer.outcome == "key-taken":
        where = f"board {answer.other_board} on {answer.other_station}"
        if answer.other_serial:
            where += f" (certificate {answer.other_serial})"
        said = f"the factory store has its public key {spki_sha256[:16]}... reserved for {where}"
    elif answer.outcome == "board-elsewhere":
        said = (
            f"board {board_uid} has an active certificate {answer.other_serial} from "
            f"{answer.other_station}"
        )
    else:
        said = "the factory store accepts nothing from this station"
    return f"{said}; {_ADVICE.get(answer.outcome, 'call the supervisor')}"


class StoreReserver:
    """A :class:`station.engine.reservation.Reserver` over the factory store (thread-safe: the
    slots' cycles share one connection, one call at a time)."""

    def __init__(
        self,
        section: FactorySection,
        station_id: str,
        *,
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.section = section
        self.station_id = station_id
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._quiet_until = 0.0

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def reserve(self, spki_sha256: str, board_uid: str) -> None:
        mode = self.section.reserve
        if mode is ReserveMode.OFF:
            return
        try:
            answer = self._ask(spki_sha256, board_uid, mode)
        except FactoryError as e:
            if mode is ReserveMode.REQUIRED:
                raise ReservationRefused(
                    "factory.unreachable",
                    f'no reservation, so no signing ([factory] reserve = "required"): {e}',
                ) from e
            return  # best-effort: the line goes on; the next sync reports any conflict
        if answer is None or answer.outcome == "reserved" or mode is ReserveMode.BEST_EFFORT:
            return
        raise ReservationRefused(
            f"factory.{answer.outcome}", refusal_text(answer, spki_sha256, board_uid)
        )

    def _ask(self, spki_sha256: str, board_uid: str, mode: ReserveMode) -> Reservation | None:
        with self._lock:
            if mode is ReserveMode.BEST_EFFORT and self._clock() < self._quiet_until:
                return None
            try:
                if self._store is None:
                    self._store = Store.connect(
                        self.section.url, timeout=self.section.connect_timeout
                    )
                return self._store.reserve(
                    self.station_id, self.section.line, spki_sha256, board_uid
                )
            except FactoryError:
                if self._store is not None:
                    self._store.close()
                    self._store = None
                self._quiet_until = self._clock() + self.retry_after
                raise
