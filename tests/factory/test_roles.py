"""A station's role: it pushes and reserves through the store's functions, only as its own
station, and cannot write a table itself (the README's grants, on a real server)."""

from __future__ import annotations

import psycopg
import pytest

from station.factory.errors import FactoryError
from station.factory.store import Store

GRANTS = """
CREATE ROLE st01 LOGIN;
INSERT INTO station_roles VALUES ('st01', 'st01');
GRANT EXECUTE ON FUNCTION factory_ingest(text, text, bigint[], text[], text[], bigint, text),
    factory_reserve(text, text, text, text), factory_hashes(text, bigint[]) TO st01;
"""


def test_a_station_role_is_held_to_its_station(store: Store, store_url: str) -> None:
    store.conn.execute("DROP ROLE IF EXISTS st01")
    store.conn.execute(GRANTS.encode())
    as_station = store_url.replace("user=postgres", "user=st01")
    try:
        with Store.connect(as_station) as st01:
            assert st01.reserve("st01", "L1", "a" * 64, "B1").outcome == "reserved"
            with pytest.raises(FactoryError, match="role st01 belongs to station st01, not st02"):
                st01.reserve("st02", "L1", "b" * 64, "B2")
            with pytest.raises(FactoryError, match="permission denied"):
                st01.rows("DELETE FROM reservations")
            with pytest.raises(FactoryError, match="permission denied"):
                st01.rows("SELECT * FROM factory_resolve('st01', 'not mine to do')")
    finally:
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute("DROP OWNED BY st01")
            conn.execute("DROP ROLE st01")
