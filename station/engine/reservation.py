"""The fleet-wide key reservation, as the cycle sees it: a seam, no I/O here.

Order of durability with a factory store (``[factory] reserve``): the CSR passes the policy,
then the key is reserved in the store, then it is signed, then ISSUED is recorded durably, then
the first byte goes to the board. A crash at any point is harmless:

- before the reservation: nothing happened anywhere;
- after the reservation, before ISSUED is durable: the store holds a reservation of this key
  for this station and board, and no certificate exists. When the board returns with the same
  key, reserving it again succeeds (a station's own reservation of a key for the same board is
  idempotent); with a new key, the old reservation blocks only a key that was never certified
  and lives on that board alone;
- after ISSUED: the audit record resumes the cycle as before; the reservation already exists.

Reserving after signing would instead leave, after a crash, a certificate for a key that
another station may hold: the one outcome the store is there to prevent.
"""

from __future__ import annotations

from typing import Protocol

from station.errors import StationError


class ReservationRefused(StationError):
    """The factory store refused the key or the board (or could not be asked, with
    ``reserve = "required"``): the CSR is not signed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Reserver(Protocol):
    """Reserves a public key (SPKI SHA-256 hex) for a board before it is signed."""

    def reserve(self, spki_sha256: str, board_uid: str) -> None:
        """Return when signing may go on; raise :class:`ReservationRefused` when it may not."""
        ...
