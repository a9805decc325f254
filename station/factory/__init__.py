"""The factory store on PostgreSQL (DESIGN section 9): many stations, one place.

A station pushes its hash-chained events (:mod:`station.factory.sync`), reserves keys before
signing (:mod:`station.factory.reserver`); the store checks both on the server
(``migrations/*.sql``). Importable without Textual.
"""

from station.factory.errors import FactoryError, StoreUnreachable
from station.factory.store import Store

__all__ = ["FactoryError", "Store", "StoreUnreachable"]
